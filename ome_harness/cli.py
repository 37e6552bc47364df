"""The `ome-harness` command: every subcommand turns bad input into one line and exit code 2."""

from __future__ import annotations

import os
import signal
import sys

# Loading the CLI takes a second or two on a busy machine: a signal then ends it with one line and
# 128 + the signal as soon as loading is done (nothing has started yet). Noted, not raised: an exception
# raised inside whatever import runs can surface as another (Python wraps one raised in a class's
# __set_name__ in RuntimeError: a traceback, chaos test) or be swallowed by a library.
# Only when this process is the CLI (`ome-harness ...`, `python -m ome_harness`), not a library user.
_HANDLERS_BEFORE = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
_SIGNALLED_WHILE_LOADING: list[int] = []
_MAIN_MODULE = getattr(getattr(sys.modules.get("__main__"), "__spec__", None), "name", None)
if _MAIN_MODULE == "ome_harness.__main__" or os.path.basename(sys.argv[0]) == "ome-harness":
    for _sig in _HANDLERS_BEFORE:
        signal.signal(_sig, lambda signum, frame: _SIGNALLED_WHILE_LOADING.append(signum))

import contextlib  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated, NoReturn  # noqa: E402

import typer  # noqa: E402

from ome_harness import __version__  # noqa: E402
from ome_harness.cli_support import (  # noqa: E402
    OneLineRefusals,
    check_file,
    check_out_folder,
    check_target_flags,
    check_template_dir,
    check_url_flag,
    configure,
    fail,
    is_folder,
    out_folder,
    refuse_together,
)
from ome_harness.config import ConfigError, HarnessConfig, scenario_target  # noqa: E402
from ome_harness.container.stop_signals import Interruption, Terminated, interruptible_command  # noqa: E402
from ome_harness.stream_ref import StreamRefError, parse_stream_ref  # noqa: E402

if TYPE_CHECKING:  # imported where used: `--help` and the other commands do not load the emulator
    from ome_harness.emulator.server import EmulatorServer

# Part of the interface (README "Exit codes"): CI tells "configured wrong" (2) from "the harness broke" (3).
EXIT_INTERNAL_ERROR = 3
EXIT_CODES_HELP = ("Exit codes: 0 nothing failed; 1 a check or scenario failed; "
                   "2 bad input or configuration; "
                   f"{EXIT_INTERNAL_ERROR} an internal error of ome-harness (please report it); "
                   "130/143 interrupted by SIGINT/SIGTERM (everything started was removed).")

app = typer.Typer(cls=OneLineRefusals, add_completion=False, no_args_is_help=True,
                  pretty_exceptions_enable=False, help="Diagnose and test OvenMediaEngine deployments.",
                  epilog=EXIT_CODES_HELP)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config (default: ./harness.yaml if present).")
]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ome-harness {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                                 help="Print the version and exit.")] = False) -> None:
    """Diagnose and test OvenMediaEngine deployments."""


@app.command()
def diagnose(
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="OME API URL (default http://localhost:8081).")
    ] = None,
    token: Annotated[str | None, typer.Option(help="OME API access token (or OMH_API__TOKEN).")] = None,
    config: ConfigOption = None,
    out: Annotated[Path | None, typer.Option(parser=out_folder, metavar="DIR",
                                             help="Folder for the reports (default reports/out).")] = None,
    domain: Annotated[str | None, typer.Option(help="Domain named in the report.")] = None,
    vhost: Annotated[str | None, typer.Option(help="Virtual host to check (default 'default').")] = None,
    app_name: Annotated[
        str | None, typer.Option("--app", help="Application to check (default 'app').")
    ] = None,
    server_xml: Annotated[
        Path | None, typer.Option("--server-xml", help="Cross-check OME's Server.xml.")
    ] = None,
    env_file: Annotated[
        Path | None, typer.Option("--env-file", help="Cross-check the backend's .env.")
    ] = None,
    template_dir: Annotated[
        Path | None, typer.Option("--template-dir", help="Override report templates.")
    ] = None,
    use_emulator: Annotated[
        bool, typer.Option("--emulator", help="Start the built-in OME API emulator and diagnose it.")
    ] = False,
    launch: Annotated[
        bool, typer.Option("--launch", help="Launch an OME container, diagnose it, remove it.")
    ] = False,
    image: Annotated[str | None, typer.Option(help="OME image for --launch.")] = None,
    playback: Annotated[str | None, typer.Option(
        "--playback", help="Also watch this live stream (APP/STREAM, or STREAM of the configured app) over "
        "LL-HLS (read-only) and report it.")] = None,
    llhls_url: Annotated[str | None, typer.Option(
        "--llhls-url", help="LL-HLS base for --playback, http(s)://HOST:PORT (or endpoints.llhls).")] = None,
    browser: Annotated[bool, typer.Option(
        "--browser", help="With --playback: also play it in a viewer's browser (OvenPlayer + hls.js in "
        "Chromium; needs ome-harness[browser]) and put a screenshot in connection-report.html.")] = False,
    targets: Annotated[Path | None, typer.Option("--targets", help="YAML list of nodes: diagnose the fleet "
                                                 "and write fleet-report.md/.json/.junit.xml.")] = None,
    concurrency: Annotated[int | None, typer.Option(
        help="Nodes diagnosed at once with --targets (default and most: 256).")] = None,
) -> None:
    """Diagnose an OME deployment and write connection-report.md/.json/.junit.xml (exit 0 ok, 1 failed, 2 bad
    input)."""
    if targets is not None:
        others = {"--api-url": api_url, "--token": token, "--emulator": use_emulator, "--launch": launch,
                  "--vhost": vhost, "--app": app_name, "--server-xml": server_xml, "--env-file": env_file,
                  "--domain": domain, "--image": image, "--playback": playback, "--llhls-url": llhls_url,
                  "--browser": browser}
        for option, value in others.items():
            refuse_together(
                {"--targets": True, option: bool(value)}, "each node's settings are in the targets file"
            )
        _diagnose_fleet(targets, concurrency, config, out, template_dir)
    if concurrency is not None:
        fail("--concurrency goes with --targets")
    if browser:
        _check_browser_option(playback)
    from ome_harness.checks.diagnosis import diagnose as run_diagnosis
    from ome_harness.container.errors import ContainerError
    from ome_harness.redaction import Redactor
    from ome_harness.report import write_report
    from ome_harness.report.interrupted import interrupted_connection_report
    from ome_harness.report.render import TemplateProblem
    from ome_harness.report.terminal import print_summary
    from ome_harness.target import open_target

    cfg = _diagnose_config(api_url=api_url, token=token, config=config, out=out, domain=domain, vhost=vhost,
                           app_name=app_name, server_xml=server_xml, env_file=env_file,
                           template_dir=template_dir, use_emulator=use_emulator, launch=launch, image=image,
                           playback=playback, llhls_url=llhls_url)
    secrets = cfg.secrets()
    with interruptible_command() as interruption:
        target = None
        try:
            # Entered inside, left outside: once the diagnosis is done, stopping the target is not cut short.
            with contextlib.ExitStack() as cleanup_held, open_target(cfg) as target:
                secrets += [target.token] if target.token else []
                report = run_diagnosis(target, server_xml=cfg.checks.server_xml, env_file=cfg.checks.env_file,
                                       env_token_key=cfg.checks.env_token_key, domain=cfg.report.domain,
                                       playback=playback, browser=browser)
                cleanup_held.enter_context(interruption.hold())
        except ContainerError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            # The target is already stopped (open_target unwound); the report says the run was cut short.
            report = interrupted_connection_report(
                interruption.name or "SIGINT", kind=cfg.target or "url",
                api_url=target.api_url if target else cfg.api.url if cfg.target == "url" else None,
                token=target.token if target else None)
        with interruption.hold():
            if interruption.name and not report.interrupted_by:
                report = interrupted_connection_report(interruption.name, kind=report.target.kind,
                                                       api_url=report.target.api_url, token=None)
            # This report is the verdict: a signal from here on (while it is written, say) changes nothing.
            interruption.settle()
            try:
                files = write_report(report, cfg.report.out, secrets=secrets,
                                     template_dir=cfg.report.template_dir)
            except TemplateProblem as exc:
                fail(str(exc))
            print_summary(report, files, Redactor(secrets))
            typer.echo(str(files["markdown"].resolve()))
    raise typer.Exit(report.exit_code)


def _diagnose_fleet(targets: Path, concurrency: int | None, config: Path | None, out: Path | None,
                    template_dir: Path | None) -> None:
    from ome_harness.fleet import DEFAULT_CONCURRENCY, diagnose_targets_file
    from ome_harness.redaction import Redactor
    from ome_harness.report.fleet import write_fleet_report

    check_file(targets, "--targets")
    if concurrency is not None and not 1 <= concurrency <= 256:
        fail(f"--concurrency {concurrency}: choose 1 to 256")
    cfg = configure(config, {"report": {"out": out, "template_dir": template_dir}})
    check_template_dir(cfg.report.template_dir)
    cfg.report.out = check_out_folder(cfg.report.out)
    try:
        report, secrets = diagnose_targets_file(targets, concurrency=concurrency or DEFAULT_CONCURRENCY,
                                                connect_timeout=cfg.api.connect_timeout,
                                                read_timeout=cfg.api.read_timeout)
    except ConfigError as exc:
        fail(str(exc))
    redact = Redactor([*cfg.secrets(), *secrets])
    files = write_fleet_report(report, cfg.report.out, secrets=[*cfg.secrets(), *secrets],
                               template_dir=cfg.report.template_dir)
    failed = ", ".join(report.failed) or "none"
    typer.echo(redact(f"{report.status.value}: {len(report.targets)} node(s), failed: {failed}"), err=True)
    typer.echo(str(files["markdown"].resolve()))
    raise typer.Exit(report.exit_code)


def _check_browser_option(playback: str | None) -> None:
    """--browser plays the --playback stream, with what it needs installed (else one line, exit 2)."""
    if playback is None:
        fail("--browser plays the --playback stream in a viewer's browser: give --playback STREAM too")
    from ome_harness.playback.browser import NEEDS, missing_prerequisites

    missing = missing_prerequisites()
    if missing:
        fail(f"--browser: {NEEDS}; missing: {'; '.join(missing)}")


def _diagnose_config(
    *,
    api_url: str | None,
    token: str | None,
    config: Path | None,
    out: Path | None,
    domain: str | None,
    vhost: str | None,
    app_name: str | None,
    server_xml: Path | None,
    env_file: Path | None,
    template_dir: Path | None,
    use_emulator: bool,
    launch: bool,
    image: str | None,
    playback: str | None = None,
    llhls_url: str | None = None,
) -> HarnessConfig:
    """Every check of `diagnose`'s input, before any connection is made."""
    if playback is not None:
        try:
            parse_stream_ref(playback, "--playback")
        except StreamRefError as exc:
            fail(str(exc))
    if llhls_url is not None and playback is None:
        fail("--llhls-url is the LL-HLS address for --playback: give --playback STREAM too")
    check_target_flags(use_emulator=use_emulator, launch=launch, api_url=api_url, token=token,
                       verb="diagnoses", image=image, llhls_url=llhls_url)
    check_file(server_xml, "--server-xml")
    check_file(env_file, "--env-file")
    target_kind = "emulator" if use_emulator else "container" if launch else None
    cfg = configure(config, {"target": target_kind, "api": {"url": api_url, "token": token, "vhost": vhost,
                                                            "app": app_name},
                             "report": {"out": out, "domain": domain, "template_dir": template_dir},
                             "container": {"image": image}, "endpoints": {"llhls": llhls_url},
                             "checks": {"server_xml": server_xml, "env_file": env_file}})
    cfg.target = cfg.target or "url"
    check_file(cfg.checks.server_xml, "checks.server_xml")
    check_file(cfg.checks.env_file, "checks.env_file")
    check_template_dir(cfg.report.template_dir)
    cfg.report.out = check_out_folder(cfg.report.out)
    return cfg


@app.command()
def run(
    target: Annotated[
        str | None,
        typer.Option(
            help="emulator, url or container (default: url when an API URL is given anywhere, else emulator)."
        ),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", help="OME API URL (means --target url).")
    ] = None,
    token: Annotated[str | None, typer.Option(help="OME API access token.")] = None,
    image: Annotated[str | None, typer.Option(help="OME image (with --target container).")] = None,
    config: ConfigOption = None,
    out: Annotated[
        Path | None,
        typer.Option(parser=out_folder, metavar="DIR",
                     help="Folder for the run report files (default reports/out)."),
    ] = None,
    allow_mutating: Annotated[
        bool,
        typer.Option(
            "--allow-mutating", help="Run @mutating scenarios on a target the harness did not launch."
        ),
    ] = False,
    select: Annotated[
        str | None, typer.Option("-k", help="Only scenarios matching this pytest -k expression.")
    ] = None,
    tags: Annotated[
        str | None, typer.Option("--tags", "-m", help="Tag expression, e.g. 'not media'.")
    ] = None,
    rtmp_url: Annotated[
        str | None,
        typer.Option(
            "--rtmp-url",
            help="RTMP ingest of a --target url OME: rtmp://HOST:PORT (or endpoints.rtmp).",
        ),
    ] = None,
    srt_url: Annotated[
        str | None, typer.Option("--srt-url", help="SRT ingest, srt://HOST:PORT (or endpoints.srt).")
    ] = None,
    llhls_url: Annotated[
        str | None,
        typer.Option("--llhls-url", help="LL-HLS playback base, http(s)://HOST:PORT (or endpoints.llhls)."),
    ] = None,
    webrtc_url: Annotated[
        str | None,
        typer.Option("--webrtc-url", help="WebRTC signalling base, ws(s)://HOST:PORT (or endpoints.webrtc)."),
    ] = None,
    server_xml: Annotated[
        Path | None,
        typer.Option(
            "--server-xml", help="OME's Server.xml: media ports not given otherwise, on the API's host."
        ),
    ] = None,
    stream_prefix: Annotated[
        str | None, typer.Option("--stream-prefix", help="Prefix of the test streams' names (default omh-).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="Fail the run on 'error' (default) or also on 'warn'.")
    ] = "error",
    features: Annotated[
        Path | None,
        typer.Option(
            "--features", help="Also run your own .feature files from this folder (steps: docs/steps.md)."
        ),
    ] = None,
    workers: Annotated[
        str,
        typer.Option(
            "--workers",
            help="Scenarios in this many worker processes, or auto: 4 on the emulator (each worker has "
            "its own), 1 on a container or URL (one OME, scenarios in turn).",
        ),
    ] = "auto",
) -> None:
    """Diagnose the target, run the Gherkin scenarios, write the run report in every format (exit 0/1/2)."""
    from ome_harness.scenarios.runner import WorkersError, run_scenarios, worker_count

    # The report's own options; everything else is checked in _run_config.
    if fail_on not in ("warn", "error"):
        fail(f"--fail-on {fail_on!r}: choose warn or error")
    if features is not None and not (is_folder(features, "--features")
                                     and any(features.rglob("*.feature"))):
        fail(f"--features {features}: not a folder with .feature files")
    endpoints = {"rtmp": rtmp_url, "srt": srt_url, "llhls": llhls_url, "webrtc": webrtc_url}
    with interruptible_command() as interruption:
        cfg = _run_config(target=target, api_url=api_url, token=token, image=image, config=config, out=out,
                          server_xml=server_xml, endpoints=endpoints, stream_prefix=stream_prefix)
        try:
            parallel = worker_count(workers, cfg.target)
        except WorkersError as exc:
            fail(str(exc))
        media = {**{f"{p}-url": v for p, v in endpoints.items()}, "server-xml": server_xml,
                 "stream-prefix": stream_prefix}
        result = run_scenarios(cfg.report.out, config=config, target=cfg.target, api_url=api_url, token=token,
                               image=image, allow_mutating=allow_mutating, select=select, tags=tags,
                               verbose=verbose, media={k: str(v) for k, v in media.items() if v is not None},
                               fail_on=fail_on, team_features=features.resolve() if features else None,
                               workers=parallel)
        # The report is written: a signal from here on changes nothing, the exit code matches the report.
        with interruption.hold():
            if result.exit_code > 128:
                interruption.reported = True
                typer.echo("ome-harness: interrupted; everything the run started was removed "
                           f"(exit {result.exit_code})", err=True)
            elif result.problem:
                fail(result.problem, result.exit_code)
            if result.report is not None:
                typer.echo(str(result.report.resolve()))
            raise typer.Exit(result.exit_code)


def _run_config(
    *,
    target: str | None,
    api_url: str | None,
    token: str | None,
    image: str | None,
    config: Path | None,
    out: Path | None,
    server_xml: Path | None,
    endpoints: dict[str, str | None],
    stream_prefix: str | None,
) -> HarnessConfig:
    """Every check of `run`'s input, before pytest starts: a bad value is one line here, not a traceback."""
    if target not in (None, "emulator", "url", "container"):
        fail(f"--target {target!r}: choose emulator, url or container")
    if target in ("emulator", "container"):
        refuse_together({f"--target {target}": True, "--api-url": api_url is not None},
                        f"--target {target} tests the harness's own OME, --api-url names another one "
                        "(use --target url)")
        refuse_together({f"--target {target}": True, "--token": token is not None},
                        f"--target {target} starts an OME with its own token; --token is for --target url")
    check_url_flag(api_url)
    check_file(server_xml, "--server-xml")
    cfg = configure(config, {"target": target, "api": {"url": api_url, "token": token},
                             "container": {"image": image}, "report": {"out": out}, "endpoints": endpoints,
                             "media": {"stream_prefix": stream_prefix}})
    cfg.target = scenario_target(cfg)
    # Flags for another target are refused, never silently ignored (the harness's own OME would be tested).
    if image is not None and cfg.target != "container":
        fail(f"--image goes with --target container (this run's target is {cfg.target})")
    if cfg.target != "url" and (given := next((name for name, url in endpoints.items() if url), None)):
        fail(f"--{given}-url is for --target url: the harness knows where its own {cfg.target} OME "
             "takes and serves media")
    cfg.report.out = check_out_folder(cfg.report.out)
    return cfg


@app.command()
def emulator(
    host: Annotated[list[str] | None, typer.Option("--host", help="Address to bind (repeatable).")] = None,
    port: Annotated[int | None, typer.Option(help="API port (OME's default is 8081).")] = None,
    token: Annotated[str | None, typer.Option(help="Access token the API accepts.")] = None,
    ome_version: Annotated[
        str | None, typer.Option("--ome-version", help="OME release to behave like.")
    ] = None,
    server_xml: Annotated[
        Path | None,
        typer.Option(
            "--server-xml", help="Take API, RTMP, SRT and LL-HLS ports and the token from an OME Server.xml."
        ),
    ] = None,
    rtmp_port: Annotated[
        int | None, typer.Option("--rtmp-port", help="RTMP ingest port (OME's default is 1935).")
    ] = None,
    srt_port: Annotated[
        int | None, typer.Option("--srt-port", help="SRT ingest port, UDP (OME's default is 9999).")
    ] = None,
    llhls_port: Annotated[
        int | None, typer.Option("--llhls-port", help="LL-HLS port (OME's default is 3333).")
    ] = None,
    llhls_daterange: Annotated[
        bool | None,
        typer.Option(
            "--llhls-daterange/--no-llhls-daterange",
            help="Also write EXT-X-DATERANGE SCTE-35 tags (OME v0.20.0 writes none).",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run the OME emulator in the foreground: API, RTMP ingest, LL-HLS (a test double, not a real
    OvenMediaEngine)."""
    from ome_harness.emulator.server import EmulatorServer, emulator_settings
    from ome_harness.foreground import stopped_by_signals
    from ome_harness.ome.server_xml import read_server_xml

    cfg = configure(
        config,
        {
            "emulator": {
                "hosts": host,
                "port": port,
                "token": token,
                "version": ome_version,
                "rtmp_port": rtmp_port,
                "srt_port": srt_port,
                "llhls_port": llhls_port,
                "llhls_daterange": llhls_daterange,
            }
        },
    )
    # Foreground like OME itself: OME's default ports unless told otherwise.
    settings = emulator_settings(cfg, default_ports=(8081, 1935, 3333), default_srt_port=9999)
    if server_xml is not None:
        try:
            facts = read_server_xml(server_xml)
        except ConfigError as exc:
            fail(str(exc))
        if not facts.api_enabled or not facts.access_token:
            fail(
                f"{server_xml}: the API is not enabled (Bind/Managers/API and Managers/API/AccessToken "
                "are needed)"
            )
        settings.port = port or facts.api_port or 8081
        settings.token = token or facts.access_token
        settings.rtmp_port = rtmp_port or facts.rtmp_port or settings.rtmp_port
        settings.srt_port = srt_port or facts.srt_port or settings.srt_port
        settings.llhls_port = llhls_port or facts.llhls_port or settings.llhls_port
        if host is None:
            settings.hosts = ("0.0.0.0", "::") if facts.listens_ipv6 else ("0.0.0.0",)
        # The file's ports are not checked like the flags' (OME itself would refuse to bind them).
        for what, number in (("API", settings.port), ("RTMP", settings.rtmp_port),
                             ("SRT", settings.srt_port), ("LL-HLS", settings.llhls_port)):
            if number is not None and not 0 < number <= 65535:
                fail(f"{server_xml}: the {what} port {number} is not a port (1 to 65535)")
    # A flag's 0 is a free port, named once bound (as the backend's --port 0); a config file's 0 keeps
    # OME's default here (emulator_settings), since in-process uses it for "any port".
    for name, value in (("port", port), ("rtmp_port", rtmp_port), ("srt_port", srt_port),
                        ("llhls_port", llhls_port)):
        if value == 0:
            setattr(settings, name, 0)
    # 128 + the first signal in every phase, in one line (foreground.py).
    with stopped_by_signals("emulator") as on_signal:
        try:
            EmulatorServer(settings).serve_forever(announce=_announce_emulator, on_signal=on_signal)
        except ValueError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot listen on one of the ports (API {settings.port}, RTMP {settings.rtmp_port}, "
                 f"SRT {settings.srt_port}/udp, LL-HLS {settings.llhls_port}): {exc.strerror or exc}")


def _announce_emulator(server: EmulatorServer) -> None:
    """The start line, once every port is bound: the ports it names are the ones really taken."""
    srt = (f"SRT ingest on port {server.srt_port}/udp" if server.srt_port
           else f"no SRT ingest ({server.srt_unavailable})" if server.srt_unavailable else "no SRT ingest")
    typer.echo(
        f"OME API emulator (v{server.settings.version} behaviour; not a real OvenMediaEngine) on "
        + ", ".join(f"{h}:{server.port}" for h in server.settings.hosts)
        + f"; RTMP ingest on port {server.rtmp_port}, {srt}, LL-HLS on port {server.llhls_port}",
        err=True,
    )


# Subcommands that live with their capability register themselves here.
from ome_harness import commands  # noqa: E402

commands.register(app)


# Commands that start things (containers, ffmpeg, emulators) and unwind them on SIGINT/SIGTERM; the
# foreground emulator too, so it ends with 128 + the signal however SIGINT was inherited (foreground.py).
INTERRUPTIBLE_COMMANDS = ("run", "diagnose", "up", "emulator")


@contextlib.contextmanager
def _signals_as_before() -> Iterator[Interruption | None]:
    """For the other commands: the handlers the process started with (uvicorn takes them from there)."""
    for sig, handler in _HANDLERS_BEFORE.items():
        if handler is not None:
            signal.signal(sig, handler)
    yield None


def _exit_after_a_signal_while_reading_options(interruption: Interruption | None, exc: SystemExit) -> None:
    """Typer turns a signal that ends a command before it started anything into a silent exit 130."""
    if interruption is None or interruption.name is None or interruption.reported:
        return
    _interrupted_before_anything_started(interruption.signum or signal.SIGINT)


def _interrupted_before_anything_started(signum: int) -> NoReturn:
    typer.echo(f"ome-harness: interrupted by {signal.Signals(signum).name} before anything started", err=True)
    sys.exit(128 + signum)


def main() -> None:
    try:
        _main()
    finally:
        _forget_handled_keyboard_interrupts()


def _forget_handled_keyboard_interrupts() -> None:
    """CPython marks a KeyboardInterrupt that ends an eval() of a string as unhandled, even when the code
    around it handles it, and `python -m` then ends by SIGINT instead of with its exit code. Start-up
    evaluates string annotations all the time (pydantic, typing), so a Ctrl-C landing there made an
    interrupted run die by the signal after writing a report that said 130 (chaos test, reproduced).
    Every interruption has been handled by now; an eval of a string that ends normally clears the mark."""
    eval("None")  # noqa: S307 - a constant


def _main() -> None:
    # From the first moment the command is known: a signal while options and configuration are read
    # is already an interruption (exit 128 + N, one line), and the command's own handling takes over.
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    signals = (interruptible_command(then_hold=True) if command in INTERRUPTIBLE_COMMANDS
               else _signals_as_before())
    try:
        with signals as interruption:
            if interruption is not None:
                # Also when inherited blocked (a parent's pthread_sigmask survives exec: such a command
                # never saw Ctrl-C); one that came meanwhile counts as come while loading.
                with interruption.hold():
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
                if interruption.signum is not None:
                    _SIGNALLED_WHILE_LOADING.append(interruption.signum)
            # The command's handlers are in place now: a signal that came while loading is not missed.
            if _SIGNALLED_WHILE_LOADING:
                _interrupted_before_anything_started(_SIGNALLED_WHILE_LOADING[0])
            try:
                app()
            except SystemExit as exc:
                _exit_after_a_signal_while_reading_options(interruption, exc)
                raise
    except ConfigError as exc:
        typer.echo(f"ome-harness: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt as exc:
        # Outside the commands' own handling (e.g. between loading and the command's first line): 128 + the
        # signal, named (CI saw a bare "interrupted" from a signalled `emulator`).
        signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        if command in INTERRUPTIBLE_COMMANDS:  # their own handling covers all they start: this came before
            _interrupted_before_anything_started(signum)
        typer.echo(f"ome-harness: interrupted by {signum.name}", err=True)
        sys.exit(128 + signum)
    except Exception as exc:  # a bug of ours: still one line, the traceback only on request
        if os.environ.get("OMH_DEBUG"):
            raise
        typer.echo(_internal_error_line(exc), err=True)
        sys.exit(EXIT_INTERNAL_ERROR)


def _internal_error_line(exc: Exception) -> str:
    """A bug of ours in one line: what, and where (the innermost frame, and the innermost of ome-harness
    when that is elsewhere), so the line alone is a bug report; secrets masked as in the logs."""
    import traceback

    from ome_harness.redaction import redact_known

    frames = traceback.extract_tb(exc.__traceback__)
    ours = next((f for f in reversed(frames) if "/ome_harness/" in f.filename), None)
    places = list(dict.fromkeys(f"{_package_path(f.filename)}:{f.lineno}"
                                for f in (frames[-1] if frames else None, ours) if f is not None))
    where = f" at {' from '.join(places)}" if places else ""
    return redact_known(f"ome-harness: internal error: {type(exc).__name__}: {exc}{where} (a bug of "
                        "ome-harness, please report it; OMH_DEBUG=1 shows the traceback)")


def _package_path(filename: str) -> str:
    # From the package's folder on (ome_harness/..., _pytest/...): the same on every machine.
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in filename:
            return filename.rsplit(marker, 1)[1]
    if "/ome_harness/" in filename:
        return "ome_harness/" + filename.rsplit("/ome_harness/", 1)[1]
    return filename


