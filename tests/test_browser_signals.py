"""No browser is left behind by a signal: SIGINT/SIGTERM (and SIGKILL) while a browser scenario plays.

A chromium started by Playwright inherits the run's environment, so the leftover probe finds it (and
its Playwright driver, and its temporary profile under the run's TMPDIR) by the run's marker.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from leftover_probe import LeftoverProbe, interrupt

from ome_harness.playback.browser import NEEDS, missing_prerequisites
from ome_harness.polling import Ready, poll_until
from ome_harness.testing import require

pytestmark = pytest.mark.xdist_group("browser")
SCENARIO = ["run", "--target", "emulator", "--allow-mutating", "--workers", "1", "-m", "browser",
            "-k", "browser_plays_the_stream_over_llhls"]


def _browser_running(probe: LeftoverProbe) -> list[str]:
    return [p for p in probe.processes() if "chromium" in p and "--type=" not in p]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_a_signal_while_the_browser_plays_leaves_no_browser_process_or_profile(tmp_path: Path, signum):
    missing = missing_prerequisites()
    require(not missing, f"{NEEDS}; missing: {'; '.join(missing)}")
    probe = LeftoverProbe(tmp_path)
    proc = probe.start(*SCENARIO)
    try:
        probe.wait_for(lambda: _browser_running(probe), proc, timeout=90)
        run = interrupt(proc, signum, timeout=60)
        if signum != signal.SIGKILL:
            assert run.code == 128 + signum, run.stderr[-1500:]
            assert "Traceback" not in run.stderr
        # After SIGKILL nothing of the harness runs its cleanup: Playwright's driver sees its pipe close
        # and ends the browser itself, a moment later (hence a wait, not a look).
        # SIGKILL abandons the cleanup (README): there only the processes must go, not the files.
        left = probe.processes if signum == signal.SIGKILL else probe.leftovers
        poll_until(lambda: Ready(None) if not left() else str(left()),
                   deadline_s=15, what="every browser process and its files to be gone")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        probe.cleanup()
