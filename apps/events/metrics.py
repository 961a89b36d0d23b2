"""Event-bus families for /metrics (qlrf/metrics.py): publish errors by transport and reason, consumer lag."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .models import PublishErrorCount
from .services.monitoring import consumer_lag, kafka_partition_lag


def event_bus_health_metrics():
    errors = CounterMetricFamily(
        "qlrf_events_publish_errors",
        "Failed relay publications by transport and reason",
        labels=["transport", "reason"],
    )
    for transport, reason, count in PublishErrorCount.objects.values_list("transport", "reason", "count"):
        errors.add_metric([transport, reason], count)
    yield errors
    partitions = kafka_partition_lag()
    lags = consumer_lag(kafka=partitions)
    lag = GaugeMetricFamily(
        "qlrf_events_consumer_lag", "Stream entries not yet delivered to a consumer group",
        labels=["transport", "stream", "group"],
    )  # fmt: skip
    pending = GaugeMetricFamily(
        "qlrf_events_consumer_pending", "Entries delivered to a consumer group but not acknowledged",
        labels=["transport", "stream", "group"],
    )  # fmt: skip
    for item in lags:
        if item.lag is not None:
            lag.add_metric([item.transport, item.stream, item.group], item.lag)
        if item.pending is not None:
            pending.add_metric([item.transport, item.stream, item.group], item.pending)
    yield lag
    yield pending
    partition_lag = GaugeMetricFamily(
        "qlrf_events_consumer_partition_lag", "Kafka: high watermark minus the group's committed offset",
        labels=["group", "topic", "partition"],
    )  # fmt: skip
    for item in partitions:
        partition_lag.add_metric([item.group, item.topic, str(item.partition)], item.lag)
    yield partition_lag
