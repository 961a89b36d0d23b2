"""tools/vcsim/build.sh: a readable one-line failure naming the apt packages when go or govmomi is missing."""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
BUILD_SCRIPT = REPO_ROOT / "tools" / "vcsim" / "build.sh"


def test_build_without_go_names_the_apt_packages(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"  # only the tools build.sh needs before it looks for go
    bin_dir.mkdir()
    for tool in ("dirname", "mkdir"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    result = subprocess.run(
        ["/bin/sh", str(BUILD_SCRIPT), str(tmp_path / "vcsim")],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "vcsim build: the go compiler is missing; install it with: "
        "apt-get install -y --no-install-recommends golang-go golang-github-vmware-govmomi-dev\n"
    )
    assert not (tmp_path / "vcsim").exists()


def test_vcsim_prints_its_url_serves_and_cleans_up_on_sigterm(vcsim_bin: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("govcsim-*"))
    process = subprocess.Popen(
        [str(vcsim_bin), "-listen", "127.0.0.1:0", "-vm", "1"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = process.stdout.readline().strip()
        match = re.fullmatch(r"https://127\.0\.0\.1:(\d+)/sdk", url)
        assert match, url
        context = ssl._create_unverified_context()
        with urllib.request.urlopen(f"https://127.0.0.1:{match[1]}/about", timeout=5, context=context) as response:
            assert response.status == 200
        created = set(Path(tempfile.gettempdir()).glob("govcsim-*")) - before
        assert len(created) == 1  # the datastore directory of DC0 (LocalDS_0)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert process.stdout.read() == ""
    assert not any(path.exists() for path in created)
