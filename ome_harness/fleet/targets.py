"""The `--targets` file: the nodes of a fleet, their labels, and where each one's token is kept.

A token is only ever named by reference (`token_env` or `token_file`): a targets file is
committed and shared, so a token written in it is refused before anything is contacted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ome_harness.config import ConfigError, OneLine, api_url_problem, safe_load_yaml

# Bounds the run (threads, sockets, report size): far above a real fleet, far below a runaway file.
MAX_TARGETS = 2000
CLEAR_TOKEN_KEYS = ("token", "access_token", "api_token", "password")
# OME's example Server.xml serves LL-HLS and WebRTC signalling on 3333 (the fleet's default for an edge).
OME_PLAYBACK_PORT = 3333


class FleetTarget(BaseModel):
    """One node of the fleet as the file declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: OneLine = Field(min_length=1, max_length=100)
    api_url: str
    token_env: str | None = None
    token_file: Path | None = None
    vhost: OneLine = "default"
    app: OneLine = "app"
    region: OneLine | None = None
    role: Literal["origin", "edge"] = "origin"
    origin: str | None = None
    # OME's OVT port (origin-edge, 9000 by default; OME_ORIGIN_PORT): an edge's OriginMap names it.
    ovt_port: int = Field(9000, ge=1, le=65535)
    # An edge's WebRTC signalling address (a viewer there proves delivery); default: the API's host and
    # OME's playback port 3333 (its example Server.xml), said as a default in the report. No LL-HLS
    # address: on v0.20.0 an LL-HLS viewer does not make an edge pull (edge_llhls_before_pull.txt).
    webrtc_url: str | None = None
    # The stream to watch through an edge (default: the origin's first live stream).
    stream: OneLine | None = None

    @field_validator("api_url")
    @classmethod
    def _server_root(cls, url: str) -> str:
        if urlsplit(url).password is not None or "@" in urlsplit(url).netloc:
            # A token in clear in the URL is still a token in clear: never echo the URL.
            raise ValueError("credentials in the URL; name the token with token_env or token_file")
        if problem := api_url_problem(url):  # the one rule for an API root (config.py)
            raise ValueError(problem)
        return url.rstrip("/")

    @field_validator("webrtc_url")
    @classmethod
    def _signalling_base(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname or parts.path.strip("/"):
            raise ValueError("expected ws://HOST:PORT (or wss://), OME's signalling root")
        if parts.password is not None or "@" in parts.netloc:
            raise ValueError("credentials in the URL are not accepted")
        return url.rstrip("/")

    def signalling_base(self) -> tuple[str, bool]:
        """The WebRTC signalling base, and whether it is the default (the API's host, port 3333)."""
        if self.webrtc_url:
            return self.webrtc_url, False
        host = urlsplit(self.api_url).hostname or "localhost"
        host = f"[{host}]" if ":" in host else host
        return f"{'wss' if self.api_url.startswith('https') else 'ws'}://{host}:{OME_PLAYBACK_PORT}", True

    @model_validator(mode="after")
    def _one_token_reference(self) -> FleetTarget:
        if self.token_env and self.token_file:
            raise ValueError("give token_env or token_file, not both")
        if self.role == "edge" and not self.origin:
            raise ValueError("an edge needs `origin:` (the name of the origin it pulls from)")
        if self.role == "origin" and self.origin:
            raise ValueError("`origin:` is for edges (role: edge)")
        return self

    def token(self, base: Path) -> str | None:
        """Read the token from the environment or the file it is kept in (relative to the targets file)."""
        if self.token_env:
            value = os.environ.get(self.token_env)
            if not value:
                raise ConfigError(f"target {self.name!r}: environment variable {self.token_env} is not set")
            return value
        if self.token_file:
            path = self.token_file if self.token_file.is_absolute() else base / self.token_file
            try:
                value = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeError) as exc:
                raise ConfigError(
                    f"target {self.name!r}: token_file {path}: {getattr(exc, 'strerror', None) or exc}"
                ) from None
            if not value:
                raise ConfigError(f"target {self.name!r}: token_file {path} is empty")
            return value
        return None


class FleetFile(BaseModel):
    """The whole file: the targets, and whether the fleet is meant to share one API token."""

    model_config = ConfigDict(extra="forbid")

    targets: list[FleetTarget] = Field(min_length=1)
    one_token: bool = True
    # How long an edge may take to serve its origin's live stream (an edge pulls on first request).
    delivery_deadline_s: float = Field(10.0, gt=0, le=300)


def load_targets(path: Path) -> tuple[FleetFile, dict[str, str | None]]:
    """The parsed file and each target's token; any problem is one ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"--targets {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw = safe_load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        why = f": {exc.problem}" if isinstance(exc.problem, str) and not mark else ""
        raise ConfigError(f"--targets {path}: not valid YAML{where}{why}") from None
    if isinstance(raw, list):
        raw = {"targets": raw}
    if not isinstance(raw, dict):
        raise ConfigError(f"--targets {path}: expected a mapping with a `targets:` list")
    entries = raw.get("targets")
    if isinstance(entries, list):
        if len(entries) > MAX_TARGETS:
            raise ConfigError(
                f"--targets {path}: {len(entries)} targets; at most {MAX_TARGETS} per run (split the file)"
            )
        _refuse_clear_tokens(path, entries)
    try:
        fleet = FleetFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"--targets {path}: {_first_error(exc, entries)}") from None
    _check_names(path, fleet.targets)
    tokens = {t.name: t.token(path.parent) for t in fleet.targets}
    return fleet, tokens


def _refuse_clear_tokens(path: Path, entries: list[Any]) -> None:
    for index, entry in enumerate(entries):
        if isinstance(entry, dict):
            clear = next((k for k in CLEAR_TOKEN_KEYS if k in entry), None)
            if clear:
                name = entry.get("name", f"#{index + 1}")
                # Never echo the value: only where it is and what to do instead.
                raise ConfigError(
                    f"--targets {path}: target {name!r} has a token in clear (`{clear}:`); "
                    "name it by reference with token_env: VAR or token_file: PATH"
                )


def _check_names(path: Path, targets: list[FleetTarget]) -> None:
    seen: set[str] = set()
    for target in targets:
        if target.name in seen:
            raise ConfigError(f"--targets {path}: duplicate target name {target.name!r}")
        seen.add(target.name)
    roles = {t.name: t.role for t in targets}
    for target in targets:
        if target.origin and roles.get(target.origin) != "origin":
            what = "is not a target in the file" if target.origin not in roles else "is not an origin"
            raise ConfigError(
                f"--targets {path}: edge {target.name!r} pulls from {target.origin!r}, which {what}"
            )


def _first_error(exc: ValidationError, entries: Any) -> str:
    # A misspelt key explains the "field required" that comes with it: name it first.
    error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    loc = list(error["loc"])
    where = ".".join(str(p) for p in loc) or "file"
    if len(loc) >= 2 and loc[0] == "targets" and isinstance(loc[1], int) and isinstance(entries, list):
        entry = entries[loc[1]] if loc[1] < len(entries) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"target {name!r}" if isinstance(name, str) else f"target #{loc[1] + 1}"
        if len(loc) > 2:
            where += f" field {'.'.join(str(p) for p in loc[2:])}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = (
            "unknown key (known: " + ", ".join(FleetTarget.model_fields) + ")"
            if len(loc) > 2
            else "unknown key (known: targets, one_token, delivery_deadline_s)"
        )
    return f"{where}: {message}"
