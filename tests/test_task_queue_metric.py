"""``qlrf_task_queue_depth`` at /metrics: the django-q2 queue's waiting tasks, the worker autoscaler's queue metric."""

from __future__ import annotations

import re

import pytest
from django_q.brokers.orm import ORM

from qlrf import metrics


def depth(client) -> float | None:
    body = client.get("/metrics").content.decode()
    found = re.search(r"^qlrf_task_queue_depth (\S+)$", body, re.M)
    return float(found.group(1)) if found else None


@pytest.mark.django_db
def test_the_depth_counts_the_tasks_waiting_in_the_broker(client, monkeypatch):
    broker = ORM(list_key="qlrf-metrics-test")  # a real broker on the test database, on a queue of its own
    monkeypatch.setattr(metrics, "_queue_broker", lambda: broker)
    assert depth(client) == 0
    for n in range(3):
        broker.enqueue(f"task-{n}")
    assert depth(client) == 3
    broker.dequeue()  # taken by a worker: no longer waiting
    assert depth(client) == 2


@pytest.mark.django_db
def test_a_broker_outage_leaves_the_depth_out_and_the_rest_served(client, monkeypatch, caplog):
    class Down:
        def queue_size(self):
            raise ConnectionError("broker down")

    monkeypatch.setattr(metrics, "_queue_broker", lambda: Down())
    response = client.get("/metrics")
    assert response.status_code == 200
    body = response.content.decode()
    assert "qlrf_task_queue_depth" not in body and "qlrf_outbox_backlog " in body
    assert "task queue depth unavailable" in caplog.text


@pytest.mark.django_db
def test_the_configured_broker_answers(client):
    metrics._queue_broker.cache_clear()
    assert depth(client) is not None and depth(client) >= 0  # the real broker of this run (ORM or Redis)
