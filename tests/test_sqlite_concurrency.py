"""The embedded default does not drop work: several processes writing the one SQLite file all succeed.

The web server and the django-q2 cluster write the same file. Without WAL, a busy timeout and IMMEDIATE transactions,
four processes that each read-then-write in a loop lose most of their writes to "database is locked" (seen: 552 of 800
failed); with the settings in ``qlrf/settings/base.py`` none fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRITER = """
import sys, time
import django
django.setup()
from django.db import connection, transaction
from apps.tenancy.models import Organization
failures = 0
for i in range(int(sys.argv[1])):
    try:
        with transaction.atomic():
            Organization.objects.select_for_update().get(slug="w")
            Organization.objects.filter(slug="w").update(description=f"{sys.argv[2]}-{i}")
            time.sleep(0.002)
    except Exception:
        failures += 1
print("failures", failures, connection.cursor().execute("PRAGMA journal_mode").fetchone()[0])
"""


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QLRF_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="qlrf.settings.development", QLRF_VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT))
    return env


def test_concurrent_writers_on_the_sqlite_file_all_succeed(tmp_path):
    env = _env(tmp_path)
    setup = "import django; django.setup(); from django.core.management import call_command; " \
        "call_command('migrate', verbosity=0); from apps.tenancy.models import Organization; " \
        "Organization.objects.create(name='w', slug='w')"  # fmt: skip
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=ROOT, check=True, timeout=300)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "150", f"w{n}"], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for n in range(4)
    ]
    outputs = [writer.communicate(timeout=300)[0].split() for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0, 0, 0]
    assert outputs == [["failures", "0", "wal"]] * 4
