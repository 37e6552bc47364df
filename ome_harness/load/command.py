"""`ome-harness load`: LL-HLS viewers as Locust users against a target, judged against thresholds."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

from ome_harness.cli_support import (
    check_out_folder,
    check_target_flags,
    check_url_flag,
    configure,
    fail,
    out_folder,
)
from ome_harness.load.settings import (
    MAX_DURATION_S,
    MAX_VIEWERS,
    LoadSettings,
    LoadSettingsError,
    Thresholds,
    check_settings,
    parse_duration,
)
from ome_harness.stream_ref import StreamRefError, parse_stream_ref


def load(
    stream: Annotated[
        str, typer.Option("--stream", help="APP/STREAM to watch (or STREAM of the configured app).")
    ],
    viewers: Annotated[int, typer.Option("--viewers", help=f"Viewers at full load (1..{MAX_VIEWERS}).")] = 10,
    spawn_rate: Annotated[float, typer.Option("--spawn-rate", help="Viewers started per second.")] = 5.0,
    duration: Annotated[
        str, typer.Option("--duration", help=f"Run time: 90, 90s, 2m (max {MAX_DURATION_S}s).")
    ] = "30s",
    workers: Annotated[
        int, typer.Option("--workers", help="Locust workers on this machine (0: one process).")
    ] = 0,
    out: Annotated[Path | None, typer.Option(parser=out_folder, metavar="DIR",
                                             help="Folder for the reports (default reports/out).")] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url", help="OME API URL (a target the harness did not launch: needs --allow-load)."
        ),
    ] = None,
    token: Annotated[str | None, typer.Option(help="OME API access token (or OMH_API__TOKEN).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config.")] = None,
    use_emulator: Annotated[
        bool,
        typer.Option("--emulator", help="Start the OME emulator, publish the test signal to it and load it."),
    ] = False,
    launch: Annotated[
        bool, typer.Option("--launch", help="Launch an OME container, publish to it, load it, remove it.")
    ] = False,
    image: Annotated[str | None, typer.Option(help="OME image for --launch.")] = None,
    llhls_url: Annotated[
        str | None,
        typer.Option(
            "--llhls-url", help="LL-HLS base http(s)://HOST:PORT of an --api-url OME (or endpoints.llhls)."
        ),
    ] = None,
    allow_load: Annotated[
        bool,
        typer.Option(
            "--allow-load",
            help="Send load to a target the harness did not launch (it is traffic someone pays for).",
        ),
    ] = False,
    max_p95_ms: Annotated[
        float, typer.Option("--max-p95-ms", help="Highest p95 of playlist/part/segment.")
    ] = 2000.0,
    max_error_rate: Annotated[
        float, typer.Option("--max-error-rate", help="Highest failed share of requests.")
    ] = 0.01,
    max_stall_rate: Annotated[
        float, typer.Option("--max-stall-rate", help="Highest share of parts that stalled the viewer.")
    ] = 0.05,
) -> None:
    """Load a stream with LL-HLS viewers (Locust); writes load-report.md/.json (exit 0 ok, 1 failed, 2 bad
    input)."""
    from ome_harness.container.errors import ContainerError
    from ome_harness.container.stop_signals import interruptible_command
    from ome_harness.load.session import run_load
    from ome_harness.media.encoder import EncoderError
    from ome_harness.redaction import mask_userinfo
    from ome_harness.target import open_target
    from ome_harness.target.media_addresses import MediaAddressUnknown, MediaNotOffered

    check_target_flags(use_emulator=use_emulator, launch=launch, api_url=api_url, token=token, verb="loads",
                       image=image, llhls_url=llhls_url)
    check_url_flag(llhls_url, "--llhls-url")
    if importlib.util.find_spec("locust") is None:  # found without importing it (gevent would patch us)
        fail("load needs Locust: pip install 'ome-harness[load]'")
    try:
        ref = parse_stream_ref(stream, "--stream")
    except StreamRefError as exc:
        fail(str(exc))
    cfg = configure(config, {"target": "emulator" if use_emulator else "container" if launch else None,
                             "api": {"url": api_url, "token": token}, "report": {"out": out},
                             "container": {"image": image}, "endpoints": {"llhls": llhls_url}})
    try:
        settings = check_settings(LoadSettings(
            stream=ref.path(cfg.api.app), viewers=viewers, spawn_rate=spawn_rate,
            duration_s=parse_duration(duration), workers=workers,
            thresholds=Thresholds(max_p95_ms, max_error_rate, max_stall_rate)))
    except LoadSettingsError as exc:
        fail(str(exc))
    cfg.target = cfg.target or "url"
    if cfg.target == "url" and not allow_load:
        target = mask_userinfo(cfg.api.url)
        fail(f"load sends {settings.viewers} viewers of {settings.stream} for {settings.duration_s} s to "
             f"{target}, a target the harness did not launch: add --allow-load if that is intended")
    cfg.report.out = check_out_folder(cfg.report.out)
    # SIGINT/SIGTERM before or after the viewers run unwind everything started (ffmpeg, a container);
    # during the run they stop Locust and the report is still written (runner.py).
    try:
        with interruptible_command(), open_target(cfg) as target:
            outcome = run_load(target, settings, cfg.report.out, secrets=cfg.secrets())
    except (ContainerError, EncoderError, MediaAddressUnknown, MediaNotOffered, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"load: [{'PASS' if outcome.verdict.passed else 'FAIL'}] "
               + ("every threshold held" if outcome.verdict.passed else "; ".join(outcome.verdict.reasons)),
               err=True)
    typer.echo(str(outcome.files["markdown"]))
    raise typer.Exit(outcome.exit_code)


def register(app: typer.Typer) -> None:
    app.command()(load)
