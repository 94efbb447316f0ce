"""`make install` is idempotent and recoverable: the real Makefile, run with a stand-in Python whose venv
tools only log what they are asked, and a `rag setup` that fails on demand (issue 10)."""
from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

FAKE_PYTHON = """#!/bin/sh
# Stand-in for python3: `-m venv DIR` makes DIR/bin with a python and a rag that log their calls.
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/sh\\necho "python $*" >> calls.log\\n' > "$3/bin/python"
    printf '#!/bin/sh\\necho "rag $*" >> calls.log\\n[ -e fail-setup ] && exit 1\\nexit 0\\n' > "$3/bin/rag"
    chmod +x "$3/bin/python" "$3/bin/rag"
    echo "venv" >> calls.log
fi
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / "fake-python"
    python.write_text(FAKE_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def make_install(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "install", f"PY={project / 'fake-python'}"], cwd=project,
                          capture_output=True, text=True, timeout=60)


def calls(project: Path) -> list[str]:
    log = project / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def test_a_failed_setup_leaves_no_stamp_and_the_next_install_completes(project):
    (project / "fail-setup").touch()
    first = make_install(project)
    assert first.returncode != 0
    assert "rag setup" in calls(project)
    assert not (project / ".venv" / ".installed").exists()      # nothing tells make the install is complete
    assert (project / ".venv" / "bin" / "rag").exists()         # ... although pip made the `rag` command

    (project / "fail-setup").unlink()
    second = make_install(project)
    assert second.returncode == 0, second.stderr
    steps = calls(project)
    assert "rag setup" in steps and any("install --quiet -e" in s for s in steps)
    assert (project / ".venv" / ".installed").exists()


def test_a_complete_install_is_not_repeated(project):
    assert make_install(project).returncode == 0
    calls(project)
    again = make_install(project)
    assert again.returncode == 0 and calls(project) == []        # nothing run the second time
