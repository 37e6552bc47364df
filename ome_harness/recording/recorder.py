"""Run procedures against a target and collect a Recording (written to disk by files.write_recording)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ome_harness import __version__
from ome_harness.media.encoder import EncoderError
from ome_harness.ome.errors import OmeError
from ome_harness.polling import Deadline, WaitTimedOut
from ome_harness.recording.model import Manifest, ProcedureRun, Recording
from ome_harness.recording.procedures import Procedure
from ome_harness.recording.session import ProcedureStopped, Session
from ome_harness.target.base import OmeTarget

NOT_REACHABLE = [
    "OME's log: not reachable over the network (a dropped SCTE-35 marker shows only there); not recorded"
]
_STOPPING = (ProcedureStopped, OmeError, EncoderError, WaitTimedOut, OSError, ValueError, TimeoutError)


def describe_target(target: OmeTarget) -> Manifest:
    """What the target says about itself before any procedure: version, LL-HLS durations, ports."""
    manifest = Manifest(
        ome_version=None,
        version_source="GET /v1/version",
        captured=datetime.now(UTC).isoformat(timespec="seconds"),
        tool=f"ome-harness {__version__}",
        vhost=target.vhost,
        app=target.app,
        not_reachable=list(NOT_REACHABLE),
    )
    with target.client(connection=target.connection()) as client:
        with contextlib.suppress(OmeError):
            manifest.ome_version = client.version().version
        with contextlib.suppress(OmeError):
            llhls = client.app(target.vhost, target.app).publishers.get("llhls") or {}
            manifest.llhls = {
                "segment_s": _number(llhls.get("segmentDuration")),
                "part_s": _number(llhls.get("chunkDuration")),
            }
        manifest.emulated = client.emulator_identity is not None
    if manifest.ome_version is None:
        manifest.version_source = "unknown: GET /v1/version did not answer with a version"
    manifest.ports = {
        name: urlsplit(url).port
        for name, url in (
            ("api", target.api_url),
            ("rtmp", target.rtmp_base),
            ("srt", target.srt_base),
            ("llhls", target.llhls_base),
            ("webrtc", target.webrtc_base),
        )
        if url
    }
    return manifest


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def record(
    target: OmeTarget,
    procedures: list[Procedure],
    *,
    allow_mutating: bool,
    progress: Callable[[str], None] = lambda line: None,
    recording: Recording | None = None,
    edge: OmeTarget | None = None,
) -> Recording:
    """Run each procedure within its deadline; a failing server is recorded, never a reason to stop.

    `recording` may be passed in so that what was observed before an interruption is still there;
    `edge`: an edge of `target` (record --edge), for the procedures that need one."""
    recording = recording or Recording(describe_target(target))
    segment_s = recording.manifest.llhls.get("segment_s") or 6.0
    part_s = recording.manifest.llhls.get("part_s") or 0.5
    for procedure in procedures:
        run = ProcedureRun(procedure.name, procedure.version, "not run")
        recording.manifest.procedures.append(run)
        missing = [m for m in procedure.needs if m != "edge" and not getattr(target, f"{m}_base")]
        if procedure.mutating and not allow_mutating:
            run.reason = "publishes its own test stream: needs --allow-mutating"
        elif "edge" in procedure.needs and edge is None:
            run.reason = "needs an edge: --edge NAME=API_URL[,llhls=URL,webrtc=URL]"
        elif missing:
            run.reason = f"needs the {', '.join(missing)} address (--{missing[0]}-url)"
        else:
            _run_one(target, procedure, recording, run, segment_s, part_s, edge)
        progress(
            f"{procedure.name} v{procedure.version}: {run.outcome}"
            + (f" ({run.reason})" if run.reason else "")
        )
    return recording


def _run_one(
    target: OmeTarget,
    procedure: Procedure,
    recording: Recording,
    run: ProcedureRun,
    segment_s: float,
    part_s: float,
    edge: OmeTarget | None = None,
) -> None:
    session = Session(
        target,
        recording,
        procedure.name,
        Deadline(procedure.deadline_s),
        segment_s=float(segment_s),
        part_s=float(part_s),
        edge=edge,
    )
    started = time.monotonic()
    try:
        with session.stack:
            procedure.run(session)
        run.outcome = "done"
    except _STOPPING as exc:
        run.outcome, run.reason = "stopped", f"{type(exc).__name__}: {exc}"
    finally:
        run.elapsed_s = round(time.monotonic() - started, 2)
        if session.own_streams:
            run.reason = (
                run.reason + "; " if run.reason else ""
            ) + f"own streams: {', '.join(session.own_streams)}"


def manifest_json(recording: Recording) -> str:
    return json.dumps(recording.manifest.to_json(), indent=2)
