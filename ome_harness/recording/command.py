"""`ome-harness record` and `ome-harness fidelity`: the recording's two subcommands (registered by
commands.py; nothing here imports the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from ome_harness.cli_support import check_out_folder, check_url_flag, configure, fail, out_folder

if TYPE_CHECKING:
    from ome_harness.config import HarnessConfig
    from ome_harness.container.stop_signals import Interruption
    from ome_harness.recording.procedures import Procedure

EDGE_HELP = (
    "An edge of the OME to record before and after a viewer: NAME=API_URL[,llhls=URL,webrtc=URL] (one per "
    "recording; asked with the same token; the viewer asks for a stream the origin already has live)."
)


def record_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            parser=out_folder,
            metavar="DIR",
            help="The recording folder (created; an existing recording is replaced).",
        ),
    ],
    api_url: Annotated[str | None, typer.Option("--api-url", help="OME API URL (or OMH_API__URL).")] = None,
    token: Annotated[str | None, typer.Option(help="OME API access token (or OMH_API__TOKEN).")] = None,
    rtmp_url: Annotated[
        str | None, typer.Option("--rtmp-url", help="RTMP ingest base rtmp://HOST:PORT.")
    ] = None,
    srt_url: Annotated[str | None, typer.Option("--srt-url", help="SRT ingest base srt://HOST:PORT.")] = None,
    llhls_url: Annotated[
        str | None, typer.Option("--llhls-url", help="LL-HLS base http(s)://HOST:PORT.")
    ] = None,
    webrtc_url: Annotated[
        str | None, typer.Option("--webrtc-url", help="WebRTC signalling ws(s)://HOST:PORT.")
    ] = None,
    edge: Annotated[list[str] | None, typer.Option("--edge", help=EDGE_HELP)] = None,
    only: Annotated[
        str | None, typer.Option("--only", help="Procedures to run, comma-separated (default all).")
    ] = None,
    allow_mutating: Annotated[
        bool,
        typer.Option(
            "--allow-mutating",
            help="Run the procedures that publish the recording's own test streams and send "
            "events to them (nothing else is touched, nothing is deleted).",
        ),
    ] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config.")] = None,
) -> None:
    """Record how an OME answers the harness's procedures into a folder fidelity can hold the emulator to
    (exit 0 recorded, 2 bad input; a server that misbehaves is recorded, not a failure)."""
    from ome_harness.container.stop_signals import interruptible_command
    from ome_harness.recording.procedures import select

    for option, value in (("--api-url", api_url), ("--llhls-url", llhls_url)):
        check_url_flag(value, option)
    edges = [_parse_edge(e) for e in edge or []]
    if len(edges) > 1:
        fail("--edge: one edge per recording (record each edge into its own --out folder)")
    try:
        procedures = select([n.strip() for n in only.split(",") if n.strip()] if only else None)
    except ValueError as exc:
        fail(f"--only: {exc}")
    cfg = configure(
        config,
        {
            "api": {"url": api_url, "token": token},
            "endpoints": {"rtmp": rtmp_url, "srt": srt_url, "llhls": llhls_url, "webrtc": webrtc_url},
        },
    )
    if "url" not in cfg.api.model_fields_set:  # never a default: the OME to record is named by its user
        fail("record needs the OME to record: --api-url URL (or OMH_API__URL, or api.url in --config)")
    _check_recording_folder(out)
    out = check_out_folder(out)
    with interruptible_command() as interruption:
        _record(cfg, procedures, allow_mutating, out, edges, interruption)


def _parse_edge(value: str) -> dict[str, str]:
    name, _, rest = value.partition("=")
    api, *extras = rest.split(",")
    if not name or not api:
        fail(f"--edge {value!r}: expected NAME=API_URL[,llhls=URL,webrtc=URL]")
    check_url_flag(api, "--edge")
    parsed = {"name": name, "api": api}
    for extra in extras:
        key, _, url = extra.partition("=")
        if key not in ("llhls", "webrtc") or not url:
            fail(f"--edge {value!r}: unknown part {extra!r} (llhls=URL or webrtc=URL)")
        parsed[key] = url
    return parsed


def _check_recording_folder(out: Path) -> None:
    """An existing folder is replaced only when it is a recording (or empty): never someone's other files."""
    if out.is_dir() and any(out.iterdir()) and not (out / "recording.json").is_file():
        fail(f"--out {out}: the folder holds files that are not a recording; choose an empty folder")


def _record(cfg: HarnessConfig, procedures: list[Procedure], allow_mutating: bool, out: Path,
            edges: list[dict[str, str]], interruption: Interruption) -> None:
    import shutil

    from ome_harness.recording.files import write_recording
    from ome_harness.recording.model import Recording
    from ome_harness.recording.recorder import describe_target, record
    from ome_harness.recording.scrubbing import Scrubber
    from ome_harness.target.base import attach_target

    target = attach_target(cfg)
    hosts = [target.host] + [urlhost for e in edges for urlhost in _hosts(e)]
    scrub = Scrubber([target.token], hosts)
    for base in (target.rtmp_base, target.srt_base, target.llhls_base, target.webrtc_base):
        scrub.learn_host(_host(base))
    recording = Recording(describe_target(target))
    edge_target = _edge_target(target, edges[0]) if edges else None
    if edges:
        recording.manifest.edge = {
            "name": edges[0]["name"],
            "ports": {k: urlsplit(edges[0][k]).port for k in ("api", "llhls", "webrtc") if edges[0].get(k)},
        }
    try:
        record(
            target,
            procedures,
            allow_mutating=allow_mutating,
            recording=recording,
            progress=lambda line: typer.echo(f"record: {scrub(line)}", err=True),
            edge=edge_target,
        )
    except KeyboardInterrupt:
        # The procedure's own cleanup (ffmpeg, held requests) ran while this unwound.
        interruption.settle()
        recording.manifest.interrupted_by = interruption.name or "SIGINT"
    finally:
        target.close()
        if edge_target is not None:
            edge_target.close()
    recording.manifest.redaction = scrub.summary()
    if (out / "recording.json").is_file():
        shutil.rmtree(out)
    write_recording(recording, out, scrub)
    recording.manifest.redaction = scrub.summary()  # stand-ins found while writing
    write_recording(recording, out, scrub)
    typer.echo(
        f"record: {len(recording.observations)} observations"
        + (
            f" (INTERRUPTED by {recording.manifest.interrupted_by})"
            if recording.manifest.interrupted_by
            else ""
        ),
        err=True,
    )
    typer.echo(str(out.resolve()))
    if recording.manifest.interrupted_by:
        raise typer.Exit(interruption.exit_code)
    answered = [o for o in recording.observations.values() if o.status is not None or o.kind != "http"]
    if recording.observations and not answered:
        # A wrong URL is bad input, not a recording of an OME: one line (the folder stays, as evidence).
        first = next(iter(recording.observations.values()))
        fail(f"nothing answered at {scrub(target.api_url)}: {scrub(first.notes[0] if first.notes else '')}")


def _host(url: str | None) -> str | None:
    return urlsplit(url).hostname if url else None


def _edge_target(origin, edge: dict[str, str]):  # noqa: ANN001, ANN202
    """The edge as a target of its own: its API, LL-HLS and signalling, the origin's token, vhost and app."""
    from ome_harness.target.base import OmeTarget

    return OmeTarget(
        kind="url",
        api_url=edge["api"],
        token=origin.token,
        vhost=origin.vhost,
        app=origin.app,
        connect_timeout=origin.connect_timeout,
        read_timeout=origin.read_timeout,
        llhls_base=edge.get("llhls"),
        webrtc_base=edge.get("webrtc"),
    )


def _hosts(edge: dict[str, str]) -> list[str]:
    return [h for h in (_host(edge.get(k)) for k in ("api", "llhls", "webrtc")) if h]


def fidelity_command(
    recording: Annotated[Path, typer.Option("--recording", help="A recording folder (or a samples folder).")],
    against: Annotated[
        Path | None,
        typer.Option("--against", help="Compare with this second recording instead of the emulator."),
    ] = None,
    deep: Annotated[bool, typer.Option("--deep", help="Compare every key path and value type.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            parser=out_folder,
            metavar="DIR",
            help="Folder for fidelity-report.md/.json (default reports/out).",
        ),
    ] = None,
    emulator_fault: Annotated[
        list[str] | None,
        typer.Option(
            "--emulator-fault",
            help="Break the emulator on purpose (a fault name of `emulator --fault`), to see "
            "fidelity catch it.",
        ),
    ] = None,
) -> None:
    """Hold the emulator (or --against a second recording) to a recording; writes fidelity-report.md/.json
    (exit 0 all agree, 1 otherwise, 2 bad input)."""
    from ome_harness.config import ConfigError
    from ome_harness.container.stop_signals import interruptible_command
    from ome_harness.recording.fidelity import against_emulator, against_recording
    from ome_harness.recording.files import RecordingError, read_recording
    from ome_harness.recording.report import write_fidelity_report

    if against is not None and emulator_fault:
        fail("--emulator-fault breaks the emulator; --against compares two recordings without one")
    out = check_out_folder(out or Path("reports/out"))
    try:
        expected = read_recording(recording)
        other = read_recording(against) if against is not None else None
    except RecordingError as exc:
        fail(str(exc))
    with interruptible_command():
        try:
            report = (
                against_recording(expected, other, deep=deep)
                if other is not None
                else against_emulator(
                    expected,
                    deep=deep,
                    faults=tuple(emulator_fault or ()),
                    progress=lambda line: typer.echo(f"fidelity: {line}", err=True),
                )
            )
        except (ValueError, ConfigError) as exc:
            fail(str(exc))
    markdown, _ = write_fidelity_report(report, out)
    typer.echo(
        f"fidelity: [{'PASS' if report.passed else 'FAIL'}] agree {report.count('agree')}, differ "
        f"{report.count('differ')}, cannot run {report.count('cannot run')}, not recorded "
        f"{report.count('not recorded')}",
        err=True,
    )
    typer.echo(str(markdown.resolve()))
    raise typer.Exit(0 if report.passed else 1)


def register(app: typer.Typer) -> None:
    app.command("record")(record_command)
    app.command("fidelity")(fidelity_command)
