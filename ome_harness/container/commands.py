"""`ome-harness up | logs | down`: a disposable OME container from the command line."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ome_harness.container.errors import ContainerError
from ome_harness.container.stop_signals import interruptible_command

if TYPE_CHECKING:  # the Docker SDK loads only when a container command runs, not with every CLI start
    from ome_harness.config import HarnessConfig
    from ome_harness.container.launcher import LaunchedOme, OmeContainer

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config (default: ./harness.yaml if present).")]


def up(
    image: Annotated[str | None, typer.Option(help="Image to run (default: container.image, the pinned OME release).")] = None,
    token: Annotated[str | None, typer.Option(help="API access token (default: a fresh random one).")] = None,
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Leave it running and return; `ome-harness down` removes it.")] = False,
    ready_timeout: Annotated[float | None, typer.Option("--ready-timeout", help="Seconds to wait for the API.")] = None,
    config: ConfigOption = None,
) -> None:
    """Launch OME in a container, print its URLs and token, and keep it until Ctrl-C."""
    from ome_harness.cli import configure, fail
    from ome_harness.container.launcher import OmeContainer

    cfg = configure(config, {"container": {"image": image, "token": token, "ready_timeout": ready_timeout}})
    ome_container = OmeContainer(cfg)
    ome, code = None, 0
    with interruptible_command() as interruption:
        try:
            # Entered inside, left outside: once `up` ends on its own, the removal is not cut short.
            with contextlib.ExitStack() as cleanup_held, contextlib.ExitStack() as owned:
                ome = owned.enter_context(ome_container)
                _print_launched(ome, cfg)
                if detach:
                    owned.pop_all()  # left running on purpose: `ome-harness down` removes it
                    typer.echo("Left running. Remove it with: ome-harness down "
                               "(it also deletes the rendered config)")
                    return
                typer.echo("Ctrl-C stops and removes it.", err=True)
                try:
                    code = _wait_while_running(ome_container)
                    cleanup_held.enter_context(interruption.hold())
                except KeyboardInterrupt:
                    # The way to stop `up`: the container goes with the end of the block, exit 0.
                    typer.echo("stopping", err=True)
        except ContainerError as exc:
            fail(str(exc))  # start() removed the container before raising
        except KeyboardInterrupt:
            if ome is None:
                typer.echo("ome-harness: interrupted while starting; the container was removed", err=True)
                code = interruption.exit_code
            else:  # while the URLs printed: removed all the same
                typer.echo("stopping", err=True)
        with interruption.hold():
            interruption.reported = True  # "stopping" / "interrupted while starting" said it
            if ome is not None:
                typer.echo(f"removed {ome.name}" + (f"; log kept in {ome.log_path}" if ome.log_path else ""),
                           err=True)
    raise typer.Exit(code)


def _print_launched(ome: LaunchedOme, cfg: HarnessConfig) -> None:
    stream = "<stream>"
    typer.echo(f"OME is ready: container {ome.name}, image {ome.image} ({ome.image_digest[:19]}), "
               f"OME {ome.version or '?'} answered after {ome.ready_seconds:.1f}s")
    typer.echo(f"  API     {ome.api_url}")
    # The one place a token is printed: the user asked for a server and needs its key — unless the
    # user gave it (--token or config), then there is nothing to learn and a log must not catch it.
    given = cfg.container.token is not None
    shown = "(the one you gave)" if given else ome.token
    typer.echo(f"  token   {shown}")
    typer.echo(f"  RTMP    {ome.rtmp_base}/{cfg.api.app}/{stream}")
    typer.echo(f"  SRT     {ome.srt_base}?streamid={cfg.api.vhost}/{cfg.api.app}/{stream}")
    typer.echo(f"  LL-HLS  {ome.llhls_base}/{cfg.api.app}/{stream}/llhls.m3u8")
    if ome.log_path:
        typer.echo(f"  log     {ome.log_path} (written when the container is removed)")
    typer.echo(f"Use it: export OMH_API__URL={ome.api_url} OMH_API__TOKEN="
               + ("<your token>" if given else ome.token))


def _wait_while_running(ome_container: OmeContainer) -> int:
    """Block until the container stops by itself (then say how it ended) or a signal arrives."""
    from docker.errors import DockerException

    container = ome_container.container
    while True:
        time.sleep(1)
        try:
            container.reload()
        except DockerException:
            typer.echo(f"ome-harness: error: container {container.name} disappeared", err=True)
            return 1
        state = container.attrs.get("State") or {}
        if state.get("Status") in ("exited", "dead"):
            tail = ome_container.log_tail()
            typer.echo(f"ome-harness: error: container {container.name} stopped with exit code "
                       f"{state.get('ExitCode')}" + (f"; last lines of its log:\n{tail}" if tail else ""), err=True)
            return 1


def logs(
    which: Annotated[str | None, typer.Argument(metavar="[CONTAINER]", help="Container name or run id (default: the newest).")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    tail: Annotated[int | None, typer.Option(help="Only the last N lines.")] = None,
) -> None:
    """Print the log of a container launched by ome-harness (tokens masked)."""
    from docker.errors import DockerException

    from ome_harness.cli import fail
    from ome_harness.container import labels as lbl
    from ome_harness.container.docker_engine import connect_engine
    from ome_harness.container.leftovers import launched_containers, redactor_for

    try:
        containers = launched_containers(connect_engine())
    except ContainerError as exc:
        fail(str(exc))
    if which:
        containers = [c for c in containers if which in (c.name, c.labels.get(lbl.RUN_ID_LABEL), c.id, c.short_id)]
    if not containers:
        fail("no container launched by ome-harness" + (f" matches {which!r}" if which else " exists")
             + "; logs of removed ones are kept under report.out/containers/")
    container, redact = containers[0], redactor_for(containers[0])
    if len(containers) > 1 and not which:
        typer.echo(f"({len(containers)} containers; showing the newest, {container.name})", err=True)
    options = {"stdout": True, "stderr": True, "tail": tail if tail is not None else "all"}
    try:
        if follow:
            for chunk in container.logs(stream=True, follow=True, **options):
                typer.echo(redact(chunk.decode("utf-8", errors="replace")), nl=False)
        else:
            typer.echo(redact(container.logs(**options).decode("utf-8", errors="replace")), nl=False)
    except KeyboardInterrupt:
        pass
    except DockerException as exc:
        fail(f"cannot read the log of {container.name}: {exc}")


def down(
    all_: Annotated[bool, typer.Option("--all", help="Also remove containers whose launcher is still running.")] = False,
    config: ConfigOption = None,
) -> None:
    """Remove containers left by earlier ome-harness runs (found by label; nothing else is touched)."""
    from docker.errors import DockerException

    from ome_harness.cli import configure, fail
    from ome_harness.container.docker_engine import connect_engine
    from ome_harness.container.leftovers import is_leftover, launched_containers, remove_leftovers

    cfg = configure(config, {})
    logs_dir = Path(cfg.report.out) / "containers" if cfg.container.keep_logs else None
    try:
        client = connect_engine(cfg.container.engine_timeout)
        removed = remove_leftovers(client, logs_dir, include_live=all_)
        live = [c for c in launched_containers(client) if not is_leftover(c)]
    except ContainerError as exc:
        fail(str(exc))
    except DockerException as exc:
        fail(f"the Docker engine failed while removing leftovers: {exc}")
    for item in removed:
        typer.echo(f"removed {item.name} (run {item.run_id}, image {item.image})"
                   + (f"; log kept in {item.log_path}" if item.log_path else ""))
    if not removed:
        typer.echo("nothing to remove: no leftovers of earlier ome-harness runs")
    if live:
        typer.echo(f"kept {len(live)} container(s) of runs still in progress: "
                   + ", ".join(c.name for c in live) + " (--all removes them too)")


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(logs)
    app.command()(down)
