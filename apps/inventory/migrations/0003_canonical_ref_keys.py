"""Asset image keys recomputed with the platform's comparison (apps.images.refs), then resolved again against the
artifacts' keys: a vSphere machine naming its template's UUID in upper case is managed, not unmanaged."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def recompute(apps, schema_editor):
    from apps.images.refs import normalise_image_ref

    Asset = apps.get_model("inventory", "Asset")
    ImageArtifact = apps.get_model("images", "ImageArtifact")
    changed = []
    for asset in Asset.objects.exclude(image_ref="").only("pk", "platform", "image_ref", "ref_key").iterator(2000):
        key = normalise_image_ref(asset.platform, asset.image_ref)
        if key != asset.ref_key:
            asset.ref_key = key
            changed.append(asset)
    Asset.objects.bulk_update(changed, ["ref_key"], batch_size=2000)
    artifacts = ImageArtifact.objects.filter(
        organization_id=OuterRef("organization_id"), platform=OuterRef("platform"), ref_key=OuterRef("ref_key")
    )
    ids = [a.pk for a in changed]
    for start in range(0, len(ids), 500):  # bounded IN lists (SQLite's variable limit)
        Asset.objects.filter(pk__in=ids[start : start + 500], image_artifact__isnull=True).update(
            image_artifact_id=Subquery(artifacts.values("id")[:1]),
            image_version_id=Subquery(artifacts.values("version_id")[:1]),
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_asset_history_and_facts"), ("images", "0003_canonical_ref_keys")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
