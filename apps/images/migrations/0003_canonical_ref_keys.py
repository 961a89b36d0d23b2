"""Artifact keys compared the way each platform compares them (vSphere UUIDs, AMI ids and GCP links case-folded).

An artifact whose new key would collide with another artifact's is left as it was (and reported): the operator
decides which of the two registrations is right.
"""

from django.db import migrations


def recompute(apps, schema_editor):
    from apps.images.refs import normalise_image_ref

    ImageArtifact = apps.get_model("images", "ImageArtifact")
    taken = set(ImageArtifact.objects.values_list("organization_id", "platform", "ref_key"))
    for artifact in ImageArtifact.objects.all().iterator(chunk_size=1000):
        key = normalise_image_ref(artifact.platform, artifact.image_ref)
        if key == artifact.ref_key:
            continue
        if (artifact.organization_id, artifact.platform, key) in taken:
            print(f"images.0003: artifact {artifact.pk} keeps {artifact.ref_key!r}: {key!r} is another artifact's")
            continue
        taken.discard((artifact.organization_id, artifact.platform, artifact.ref_key))
        taken.add((artifact.organization_id, artifact.platform, key))
        ImageArtifact.objects.filter(pk=artifact.pk).update(ref_key=key)


class Migration(migrations.Migration):
    dependencies = [("images", "0002_family_version_scheme")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
