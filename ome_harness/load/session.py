"""One load run against a target: the test signal (on a target the harness launched), OME's stats polled
meanwhile, Locust to the end, then results, verdict and report."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
from dataclasses import dataclass
from pathlib import Path

from ome_harness.container.stop_signals import stop_signals_deferred
from ome_harness.load.ome_view import OmeStatsPoller
from ome_harness.load.report import write_load_report
from ome_harness.load.results import LoadResult, Verdict, judge, read_results
from ome_harness.load.runner import run_locust
from ome_harness.load.settings import LoadSettings
from ome_harness.media.encoder import EncoderSettings
from ome_harness.redaction import Redactor
from ome_harness.target.base import OmeTarget

# The harness's own test signal, small: the machine's cores are for the viewers, not the encoder.
LOAD_SIGNAL = EncoderSettings(
    width=320, height=180, framerate=15, video_bitrate=300_000, audio_bitrate=32_000
)


@dataclass
class LoadOutcome:
    result: LoadResult
    verdict: Verdict
    files: dict[str, Path]

    @property
    def exit_code(self) -> int:
        """0 pass, 1 fail, 2 Locust did not run; 128 + the signal when stopped early (130 / 143)."""
        if self.result.interrupted_by:
            return 128 + signal.Signals[self.result.interrupted_by].value
        if not self.result.ran:
            return 2
        return 0 if self.verdict.passed else 1


def run_load(target: OmeTarget, settings: LoadSettings, out: Path, *, publish: bool | None = None,
             secrets: list[str] | None = None) -> LoadOutcome:
    """Run the viewers against `target` and write the report into `out` (publishing first when the harness
    launched the target, since a fresh OME has no stream to watch)."""
    from ome_harness.media.publishing import open_publication
    from ome_harness.playback.check import app_segment_s

    publish = target.launched if publish is None else publish
    host = target.llhls_base
    if not host:
        raise ValueError("the target's LL-HLS address is unknown: give --llhls-url (or endpoints.llhls)")
    if settings.segment_s is None:
        settings = dataclasses.replace(settings, segment_s=app_segment_s(target, settings.app))
    with contextlib.ExitStack() as stack:
        if publish:
            client = stack.enter_context(target.client())
            stack.enter_context(open_publication(target, client, settings.name, app=settings.app,
                                                 settings=LOAD_SIGNAL))
            _wait_playable(f"{host.rstrip('/')}{settings.master_path}", settings.segment_s)
        with OmeStatsPoller(target, settings.app, settings.name) as poller:
            locust = run_locust(settings, host, out)
    # A signal now waits until the report is written (then it unwinds as usual).
    with stop_signals_deferred():
        result = read_results(locust, poller.samples)
        verdict = judge(result, settings)
        secrets = [*(secrets or []), *([target.token] if target.token else [])]
        _redact_locust_files(out, Redactor(secrets))
        files = write_load_report(out, target, settings, result, verdict, emulated=target.emulated(),
                                  secrets=secrets)
    return LoadOutcome(result, verdict, files)


def _wait_playable(master_url: str, segment_s: float | None) -> None:
    """A stream the run just published is young: real OME holds its first playlists for about two segment
    durations (llhls_warmup_timeline.txt). The viewers start once one viewer got its first playlist, so the
    run measures the stream, not its warm-up (a stream that never plays is left to the viewers to report)."""
    from ome_harness.playback.llhls_viewer import LlhlsViewer, ViewerError

    with LlhlsViewer(master_url, segment_s=segment_s, fetch_segments=False) as viewer, \
            contextlib.suppress(ViewerError):
        viewer.open()


def _redact_locust_files(out: Path, redactor: Redactor) -> None:
    """Locust's own files quote URLs and errors as they were: no secret stays in them either."""
    for path in out.glob("locust*"):
        if path.suffix in (".csv", ".html", ".log", ".txt", ".json") and path.is_file():
            text = path.read_text(errors="replace")
            if (redacted := redactor(text)) != text:
                path.write_text(redacted)
