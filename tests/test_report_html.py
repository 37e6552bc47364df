"""test-report.html renders on its own in a real browser (Debian's headless chromium): no network, headings shown."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from ome_harness.report.render import write_report
from ome_harness.report.run_report import run_report
from ome_harness.results import CheckResult, ScenarioRun, ScenarioStep, Status, TargetInfo
from ome_harness.testing import require

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    require(binary is not None, "chromium is not installed (apt-get install chromium)")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def _png_pixels(path: Path) -> bytes:
    """The decompressed scanlines of a PNG (enough to tell a blank page from a drawn one)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return zlib.decompress(idat)


def _failing_report(tmp_path: Path) -> Path:
    run = ScenarioRun(feature="Stream lifecycle through the backend", feature_file="backend_lifecycle.feature",
                      scenario="Stopping a live channel removes its stream from OME", line=20,
                      tags=["backend", "endpoint_stop", "mutating"], failed_step="Then OME no longer lists "
                      "the channel's stream", steps=[ScenarioStep(keyword="Then", name="OME no longer lists the "
                                                                  "channel's stream", line=24, status="failed")])
    failed = CheckResult(id="steps/test_backend_lifecycle.py::test_stop", title="x", status=Status.ERROR,
                         summary="failed at 'Then OME no longer lists': still listed <script>alert(1)</script>",
                         kind="scenario", scenario=run)
    report = run_report([failed], {"target": TargetInfo(kind="emulator", api_url="http://127.0.0.1:1", key="-",
                                                        emulator="ome-harness emulator").model_dump()})
    return write_report(report, tmp_path / "out", secrets=[])["html"]


def test_the_html_report_is_self_contained(tmp_path: Path) -> None:
    html = _failing_report(tmp_path).read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the page loads something from outside"
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # target text is escaped


def test_the_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = _failing_report(tmp_path)
    shot = tmp_path / "shot.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri())
    assert shot.is_file(), run.stderr[-2000:]
    pixels = _png_pixels(shot)
    assert len(set(pixels)) > 16, "the screenshot is blank"
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    for heading in ("OvenMediaEngine Test Report", "Test Results Summary", "Issues Found", "Backend Endpoints",
                    "Implementation Status", "Next Steps", "Notes"):
        assert re.search(rf"<h[1-4][^>]*>[^<]*{re.escape(heading)}", dom), f"heading {heading!r} not rendered"
    assert "Stream Stop Endpoint" in dom and "FAILED" in dom


def test_a_blank_page_is_told_apart_from_a_report(tmp_path: Path) -> None:
    # The non-blank check above must be able to fail: an empty page's screenshot has next to no distinct bytes.
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><html><body style='background:#fff'></body></html>")
    shot = tmp_path / "blank.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri())
    assert len(set(_png_pixels(shot))) <= 16
