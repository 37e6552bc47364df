"""The checks every command makes before doing any work: one line on stderr and exit 2 when they fail.

Nothing here imports the CLI, so commands registered from other modules use the same checks.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from ome_harness.config import ConfigError, HarnessConfig, api_url_problem, load_config, named_folder
from ome_harness.redaction import install_log_redaction


def fail(message: str, code: int = 2) -> NoReturn:
    """End the command with one line on stderr."""
    typer.echo(f"ome-harness: error: {message}", err=True)
    raise typer.Exit(code)


# Click's exceptions, from whichever Click this Typer uses (its own copy since 0.29): found through a
# public name rather than a private module path.
_CLICK_ERRORS = sys.modules[typer.BadParameter.__module__]


class OneLineRefusals(TyperGroup):
    """The app's group: Click's own refusals (an unknown option or command, a value of the wrong type)
    end in one line and exit 2 like every other bad input, not in a usage text and a framed box.

    Caught where Click raises them (making a context, invoking a subcommand), so Typer's own handling of
    everything else (help, interruptions, exit codes) is left exactly as it is.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        with _one_line_refusal():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _one_line_refusal():
            return super().invoke(ctx)


@contextmanager
def _one_line_refusal() -> Iterator[None]:
    try:
        yield
    except _CLICK_ERRORS.UsageError as exc:
        if isinstance(exc, getattr(_CLICK_ERRORS, "NoArgsIsHelpError", ())):
            raise  # `ome-harness` alone: the help
        where = exc.ctx.command_path if exc.ctx is not None else "ome-harness"
        fail(f"{' '.join(exc.format_message().split())} (see {where} --help)", exc.exit_code)


def out_folder(value: str) -> Path:
    """--out's parser: the config's rule for the report folder (config.named_folder), as Click's refusal."""
    try:
        return Path(named_folder(value))  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def configure(config_path: Path | str | None, overrides: dict[str, Any]) -> HarnessConfig:
    """The merged configuration (file, OMH_* environment, flags), validated as a whole, or exit 2."""
    check_file(Path(config_path) if config_path is not None else None, "--config")
    try:
        cfg = load_config(config_path, overrides)
    except ConfigError as exc:
        fail(str(exc))
    install_log_redaction(cfg.secrets())  # from here on no log record carries a configured secret
    return cfg


def check_url_flag(url: str | None, option: str = "--api-url") -> None:
    """A flag's URL named as the flag (the merged config names its key instead)."""
    if url is not None and (problem := api_url_problem(url)):
        fail(f"{option}: {problem}")


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a file (None when it can), in the user's words."""
    try:
        if path.is_file():
            return None
        if path.is_dir():
            return "is a folder, not a file"
        return "not a regular file" if path.exists() else "no such file"
    except OSError as exc:  # a name too long for the file system, a loop of links: stat() itself fails
        return exc.strerror or str(exc)


def check_file(path: Path | None, option: str) -> None:
    if path is not None and (problem := file_problem(path)):
        fail(f"{option} {path}: {problem}")


def is_folder(path: Path, option: str) -> bool:
    try:
        return path.is_dir()
    except OSError as exc:
        fail(f"{option} {path}: {exc.strerror or exc}")


def refuse_together(given: dict[str, bool], reason: str) -> None:
    """Options that cannot be honoured together are an error, never silently ignored."""
    named = [option for option, present in given.items() if present]
    if len(named) > 1:
        fail(f"{' and '.join(named)} cannot be used together: {reason}")


def check_target_flags(*, use_emulator: bool, launch: bool, api_url: str | None, token: str | None,
                       verb: str, image: str | None = None, llhls_url: str | None = None) -> None:
    """--emulator / --launch (the harness's own OME) against --api-url / --token (someone else's): one line
    for a mix that cannot mean anything, then the API URL's own check. Flags that only mean something for
    another target (--image without --launch; --llhls-url for the harness's own OME) are refused too,
    never silently ignored."""
    refuse_together({"--emulator": use_emulator, "--launch": launch}, "choose one target")
    if image is not None and not launch:
        fail("--image goes with --launch (the image of the OME container it launches)")
    own = "--emulator" if use_emulator else "--launch" if launch else None
    if own is not None:
        refuse_together({own: True, "--api-url": api_url is not None},
                        f"{own} {verb} the harness's own OME, --api-url names another one")
        refuse_together({own: True, "--token": token is not None},
                        f"{own} starts an OME with its own token; --token is for --api-url")
        refuse_together({own: True, "--llhls-url": llhls_url is not None},
                        f"the harness knows where the OME of {own} serves LL-HLS (--llhls-url: --api-url)")
    check_url_flag(api_url)


def check_out_folder(out: Path) -> Path:
    """The report folder exists (created now) and is writable, before any check or scenario runs."""
    if not is_folder(out, "--out") and out.exists():
        fail(f"--out {out}: is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"--out {out}: cannot create the folder: {exc.strerror}")
    probe = out / f".ome-harness-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        fail(f"--out {out}: cannot write there: {exc.strerror}")
    return out.resolve()


def check_template_dir(template_dir: Path | None) -> None:
    """Every template in a user's folder compiles; a broken one is named with its line."""
    if template_dir is None:
        return
    if not is_folder(template_dir, "--template-dir"):
        fail(f"--template-dir {template_dir}: no such folder")
    from ome_harness.report.render import TemplateProblem, check_templates

    try:
        check_templates(template_dir)
    except TemplateProblem as exc:
        fail(str(exc))
