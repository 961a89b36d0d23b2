from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("drift", "0002_snapshot_trigger_demo"),
    ]

    operations = [
        migrations.AlterField(
            model_name="driftsnapshot",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("scan", "After a scan"),
                    ("promotion", "After a promotion or rollback"),
                    ("revocation", "After a revocation"),
                    ("daily", "Daily schedule"),
                    ("manual", "Manual"),
                    ("demo", "Synthetic demo history"),
                ],
                max_length=16,
            ),
        ),
    ]
