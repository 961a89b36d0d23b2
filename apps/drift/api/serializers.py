"""Response shapes of the drift API (documented for the OpenAPI schema)."""

from rest_framework import serializers


class OutdatedAssetSerializer(serializers.Serializer):
    instance_id = serializers.CharField()
    name = serializers.CharField()
    platform = serializers.CharField()
    environment = serializers.CharField()
    site = serializers.CharField()
    version = serializers.CharField()
    baseline = serializers.CharField()
    days_behind = serializers.IntegerField()
    outdated_since = serializers.DateTimeField()
    reason = serializers.CharField()
    running = serializers.BooleanField(help_text="False: the machine is stopped or deallocated (outdated all the same)")


class DriftReportSerializer(serializers.Serializer):
    environment = serializers.CharField(allow_null=True)
    platform = serializers.CharField(allow_null=True)
    site = serializers.CharField(allow_null=True)
    total_assets = serializers.IntegerField()
    compliant_assets = serializers.IntegerField()
    outdated_count = serializers.IntegerField()
    unmanaged_count = serializers.IntegerField()
    stale_count = serializers.IntegerField()
    not_running_count = serializers.IntegerField()
    coverage_pct = serializers.FloatField(allow_null=True)
    rag = serializers.CharField(allow_null=True)
    oldest_drift_days = serializers.IntegerField(allow_null=True)
    calculated_at = serializers.DateTimeField()
    outdated_assets = OutdatedAssetSerializer(many=True, help_text="Up to 20 per report, most days behind first.")


class DriftReportSetSerializer(serializers.Serializer):
    organization = serializers.CharField()
    calculated_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=["live", "snapshot"])
    snapshot_id = serializers.IntegerField(
        allow_null=True, help_text="The snapshot answering an as_of; null when live."
    )
    snapshot_taken_at = serializers.DateTimeField(allow_null=True, help_text="When that snapshot was taken.")
    snapshot_trigger = serializers.CharField(allow_null=True, help_text="What wrote it: scan, promotion, revocation…")
    as_of = serializers.DateTimeField(allow_null=True, help_text="The instant asked for (UTC); null when live.")
    reports = DriftReportSerializer(many=True)
    by_environment = DriftReportSerializer(many=True)
    by_site = DriftReportSerializer(many=True)
    by_platform = DriftReportSerializer(many=True)
    total = DriftReportSerializer()


class TrendPointSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    taken_at = serializers.DateTimeField()
    snapshot_id = serializers.IntegerField()
    environment = serializers.CharField()
    coverage_pct = serializers.FloatField(allow_null=True)
    drift_pct = serializers.FloatField(allow_null=True)
    compliant = serializers.IntegerField()
    outdated = serializers.IntegerField()
    unmanaged = serializers.IntegerField()
    total = serializers.IntegerField()
    rag = serializers.CharField(allow_null=True)
