"""Exit codes are part of the interface: 2 "you configured it wrong" is never "the harness broke" (3)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# A bug of ours, injected: the diagnosis itself raises. Everything before it (options, config) is fine.
BROKEN_HARNESS = (
    "import sys\n"
    "import ome_harness.checks.diagnosis as diagnosis\n"
    "import os\n"
    "def broken(*args, **kwargs):\n"
    "    raise RuntimeError(os.environ.get('BUG_MESSAGE', 'a bug in a check'))\n"
    "diagnosis.diagnose = broken\n"
    "from ome_harness.cli import main\n"
    "sys.argv = ['ome-harness', *sys.argv[1:]]\n"
    "main()\n")


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OMH_")}
    return subprocess.run([sys.executable, "-c", BROKEN_HARNESS, *args], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env={**clean, **env})


def test_an_internal_error_exits_3_in_one_line_that_says_where(tmp_path: Path) -> None:
    result = _run(tmp_path, "diagnose", "--emulator", "--out", str(tmp_path / "out"))
    assert result.returncode == 3, result.stderr
    [line] = result.stderr.splitlines()
    # Where it rose (the injected function) and the frame of ome-harness that called it: a bug report
    # in one line, even from a CI log where OMH_DEBUG was not set.
    assert re.fullmatch(r"ome-harness: internal error: RuntimeError: a bug in a check at <string>:\d+ from "
                        r"ome_harness/[\w/]+\.py:\d+ \(a bug of ome-harness, please report it; OMH_DEBUG=1 "
                        r"shows the traceback\)", line), line


def test_an_internal_error_line_masks_secrets(tmp_path: Path) -> None:
    result = _run(tmp_path, "diagnose", "--emulator", "--out", str(tmp_path / "out"),
                  BUG_MESSAGE="cannot reach http://admin:Hunter2-secret@ome.example:8081")
    assert result.returncode == 3 and "internal error" in result.stderr, result.stderr
    assert "Hunter2-secret" not in result.stderr


def test_bad_input_still_exits_2(tmp_path: Path) -> None:
    result = _run(tmp_path, "diagnose", "--emulator", "--launch")
    assert result.returncode == 2, result.stderr


def test_the_exit_codes_are_in_the_help(run_cli) -> None:
    help_text = " ".join(run_cli("--help").stdout.split())
    assert "2 bad input or configuration; 3 an internal error of ome-harness" in help_text
    assert "130/143 interrupted by SIGINT/SIGTERM" in help_text
