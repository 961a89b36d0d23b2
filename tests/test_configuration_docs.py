"""Every QLRF_* variable the code reads is documented in docs/configuration.md (one helper, one page)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ = re.compile(r'env_(?:str|bool|int|list|required)\(\s*"([A-Z0-9_]+)"')


def test_every_variable_read_is_documented():
    documented = set(re.findall(r"`QLRF_([A-Z0-9_]+)`", (ROOT / "docs" / "configuration.md").read_text()))
    read = set()
    for path in [*(ROOT / "qlrf").rglob("*.py"), *(ROOT / "apps").rglob("*.py")]:
        read.update(READ.findall(path.read_text()))
    assert read, "the settings read no variables?"
    assert sorted(read - documented) == []


def test_no_module_reads_qlrf_variables_around_the_helper():
    offenders = [
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "qlrf").rglob("*.py"), *(ROOT / "apps").rglob("*.py")]
        if path.name != "conf.py" and re.search(r"os\.environ(?:\.get)?[\[(]\s*[\"']QLRF_", path.read_text())
    ]
    assert offenders == []
