"""Hold a target to a recording: run the recording's procedures on the emulator (or take a second
recording) and compare observation by observation.

Verdicts: agree, differ (with the first difference), cannot run (said with why: a procedure not built,
a step the run could not reach, a hand-made file no procedure asks for), and "not recorded" for what
the run saw that the recording does not hold (informational: the recording is the judge).
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ome_harness.recording.compare import CannotCompare, Difference, compare
from ome_harness.recording.model import Recording
from ome_harness.recording.procedures import PLANNED, PROCEDURES, Procedure

if TYPE_CHECKING:
    from ome_harness.emulator.server import EmulatorServer, EmulatorSettings
    from ome_harness.target.base import OmeTarget

Verdict = Literal["agree", "differ", "cannot run", "not recorded"]
EDGE_VIEWED_STREAM = "probe1"


@dataclass
class Finding:
    key: str
    verdict: Verdict
    reason: str = ""
    difference: Difference | None = None
    file: str = ""


@dataclass
class FidelityReport:
    recording: str
    against: str  # "the emulator (v0.20.0 behaviour)" or the second recording's folder
    deep: bool
    ome_version: str | None
    version_source: str
    inferred: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # how each procedure went on the compared side
    tolerances: dict[str, str] = field(default_factory=dict)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for f in self.findings if f.verdict == verdict)

    @property
    def passed(self) -> bool:
        return all(f.verdict in ("agree", "not recorded") for f in self.findings)


def compare_recordings(
    expected: Recording,
    got: Recording,
    *,
    deep: bool,
    against: str,
    why_missing: Callable[[str], str] | None = None,
    missing: Verdict = "cannot run",
) -> FidelityReport:
    """Every observation of `expected` against `got` (same key, same question)."""
    report = FidelityReport(
        expected.folder,
        against,
        deep,
        expected.manifest.ome_version,
        expected.manifest.version_source,
        list(expected.manifest.inferred),
    )
    explain = why_missing or (lambda key: f"not in {against}")
    for key, observation in expected.observations.items():
        other = got.observations.get(key)
        if other is None:
            report.findings.append(Finding(key, missing, explain(key), file=observation.file))
            continue
        try:
            difference = compare(observation, other, deep=deep)
        except CannotCompare as exc:
            report.findings.append(Finding(key, "cannot run", str(exc), file=observation.file))
            continue
        verdict: Verdict = "agree" if difference is None else "differ"
        report.findings.append(Finding(key, verdict, difference=difference, file=observation.file))
    for name in expected.unmapped:
        report.findings.append(
            Finding(
                name,
                "cannot run",
                "a hand-made capture no procedure asks for (recording/handmade.py names the ones that are)",
                file=name,
            )
        )
    for key in got.observations:
        if key not in expected.observations:
            where = expected.folder or "the recording"
            report.findings.append(
                Finding(key, "not recorded", f"seen in {against}, not recorded in {where}")
            )
    report.tolerances = {p.name: p.tolerance for p in PROCEDURES.values() if p.name in expected.procedures()}
    return report


def procedures_of(recording: Recording) -> tuple[list[Procedure], dict[str, str]]:
    """The procedures to run for a recording, and why each of its other procedures cannot run."""
    runnable: list[Procedure] = []
    reasons: dict[str, str] = {}
    recorded_versions = {run.name: run.version for run in recording.manifest.procedures}
    for name in recording.procedures():
        procedure = PROCEDURES.get(name)
        if procedure is None:
            reasons[name] = (
                f"procedure {name!r} is planned, not built yet ({PLANNED[name]})"
                if name in PLANNED
                else f"no procedure {name!r} in this version of ome-harness"
            )
        elif recorded_versions.get(name, procedure.version) != procedure.version:
            reasons[name] = (
                f"recorded with {name} v{recorded_versions[name]}, this ome-harness has "
                f"v{procedure.version}: they do not ask the same questions"
            )
        else:
            runnable.append(procedure)
    return runnable, reasons


def emulator_run(
    expected: Recording,
    procedures: list[Procedure] | None = None,
    *,
    faults: tuple[str, ...] = (),
    progress: Callable[[str], None] = lambda line: None,
) -> Recording:
    """Start the emulator at the recording's version, vhost/app and LL-HLS durations and run the recording's
    procedures on it (or `procedures`): the other side of the comparison."""
    from ome_harness.emulator.server import EmulatorServer, EmulatorSettings
    from ome_harness.recording.recorder import record
    from ome_harness.target.base import OmeTarget

    manifest = expected.manifest
    if manifest.ome_version is None:
        raise ValueError(
            f"the recording does not say which OME version it holds ({manifest.version_source}): "
            "the emulator cannot be set to it"
        )
    token = secrets.token_urlsafe(12)
    settings = EmulatorSettings(
        hosts=("127.0.0.1",),
        token=token,
        version=manifest.ome_version,
        vhost=manifest.vhost,
        apps=(manifest.app,),
        llhls_segment_s=float(manifest.llhls.get("segment_s") or 6.0),
        llhls_part_s=float(manifest.llhls.get("part_s") or 0.5),
        faults=faults,
    )
    procedures = procedures if procedures is not None else procedures_of(expected)[0]
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(EmulatorServer(settings))
        target = OmeTarget(
            kind="emulator",
            api_url=server.url,
            token=token,
            vhost=manifest.vhost,
            app=manifest.app,
            launched=True,
            emulator=server,
            **server.target_addresses(),
        )
        stack.callback(target.close)
        edge = None
        if any(p.name == "edge" for p in procedures):
            edge = stack.enter_context(_emulated_edge(server, settings))
        return record(target, procedures, allow_mutating=True, progress=progress, edge=edge)


@contextlib.contextmanager
def _emulated_edge(origin: EmulatorServer, settings: EmulatorSettings) -> Iterator[OmeTarget]:
    """An emulated edge of `origin` (emulator/edge.py: it pulls through the origin's REST API, not OVT) and a
    live stream on the origin for its viewer: `probe1`, as the captured edge's origin had
    (edge_log_pull.txt)."""
    from ome_harness.emulator.edge import EdgeOrigin
    from ome_harness.emulator.server import EmulatorServer
    from ome_harness.target.base import OmeTarget

    if origin.state.stream(settings.vhost, settings.apps[0], EDGE_VIEWED_STREAM) is None:
        origin.state.add_stream(EDGE_VIEWED_STREAM, vhost=settings.vhost, app=settings.apps[0])
    edge_settings = dataclasses.replace(
        settings, rtmp_port=None, srt_port=None, llhls_port=0, faults=(),
        edge_of=EdgeOrigin(origin.url, settings.token),
    )
    with EmulatorServer(edge_settings) as edge:
        playback = edge.target_addresses()["llhls_base"]
        target = OmeTarget(
            kind="emulator",
            api_url=edge.url,
            token=settings.token,
            vhost=settings.vhost,
            app=settings.apps[0],
            launched=True,
            emulator=edge,
            llhls_base=playback,
            webrtc_base=playback.replace("http://", "ws://", 1) if playback else None,
        )
        try:
            yield target
        finally:
            target.close()


def against_emulator(
    expected: Recording,
    *,
    deep: bool,
    faults: tuple[str, ...] = (),
    progress: Callable[[str], None] = lambda line: None,
    got: Recording | None = None,
) -> FidelityReport:
    """Start the emulator at the recording's version and LL-HLS settings, run its procedures, compare.

    `got`: an emulator run made already (emulator_run) for the same version and settings, reused."""
    reasons = procedures_of(expected)[1]
    if got is None:
        got = emulator_run(expected, faults=faults, progress=progress)
    else:  # a shared run keeps only what this recording asked
        mine = set(expected.procedures())
        runs = [run for run in got.manifest.procedures if run.name in mine]
        got = Recording(dataclasses.replace(got.manifest, procedures=runs),
                        {k: o for k, o in got.observations.items() if o.procedure in mine})
    for run in got.manifest.procedures:
        if run.outcome != "done":
            reasons[run.name] = f"{run.outcome} on the emulator: {run.reason}"
    against = f"the emulator (v{expected.manifest.ome_version} behaviour; not a real OvenMediaEngine)"

    def why(key: str) -> str:
        procedure = key.split("/", 1)[0]
        return reasons.get(procedure) or "the emulator's run of the procedure did not make this observation"

    report = compare_recordings(expected, got, deep=deep, against=against, why_missing=why)
    report.runs = [
        f"{r.name} v{r.version}: {r.outcome} in {r.elapsed_s:g} s" + (f" ({r.reason})" if r.reason else "")
        for r in got.manifest.procedures
    ]
    report.runs += [
        f"{name}: cannot run ({reason})"
        for name, reason in reasons.items()
        if name not in {r.name for r in got.manifest.procedures}
    ]
    return report


def against_recording(expected: Recording, got: Recording, *, deep: bool) -> FidelityReport:
    """Two recordings (two OME versions, staging and production): what changed, no emulator."""
    return compare_recordings(
        expected,
        got,
        deep=deep,
        against=got.folder or "the second recording",
        why_missing=lambda key: f"not recorded in {got.folder or 'the second recording'}",
        missing="not recorded",  # a question only one side asked: a gap, not a change
    )
