"""Read the raw responses captured from a real OME (../shared/samples/*.http) for golden tests."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ome_harness.testing import require

SAMPLES = Path(os.environ.get("OMH_SAMPLES_DIR", Path(__file__).resolve().parents[2] / "shared" / "samples"))
OPENAPI = Path(os.environ.get("OMH_OME_OPENAPI", SAMPLES.parent / "ome-openapi-v0.21.0.yml"))
TOKEN = "ome-api-token-2024"


def require_samples() -> None:
    """The captures of a real OME are the only tie to it: missing on CI is a failure, not a skip."""
    require(SAMPLES.is_dir() and any(SAMPLES.glob("*.http")),
            f"needs the samples captured from a real OME at {SAMPLES} (set OMH_SAMPLES_DIR)")


def require_openapi() -> None:
    require(OPENAPI.is_file(), f"needs OME's OpenAPI file at {OPENAPI} (set OMH_OME_OPENAPI)")


def or_missing(items: list[Any]) -> list[Any]:
    """Parameters for pytest: with no samples, one stand-in so the test runs and its `require` speaks."""
    return items or [None]


@dataclass
class Sample:
    name: str
    method: str
    path: str
    auth: str | None  # "token", "none", a raw header value, or "base64:<token>"
    body: str | None
    status: int
    headers: dict[str, str]
    text: str
    responses: list[tuple[int, dict[str, str], str]] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text.strip() else None


def _parse_responses(lines: list[str]) -> list[tuple[int, dict[str, str], str]]:
    responses: list[tuple[int, dict[str, str], str]] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("HTTP/"):
            i += 1
            continue
        status = int(lines[i].split()[1])
        headers: dict[str, str] = {}
        i += 1
        while i < len(lines) and lines[i].strip():
            key, _, value = lines[i].partition(":")
            headers[key.strip().lower()] = value.strip()
            i += 1
        body_lines = []
        i += 1
        while i < len(lines) and not lines[i].startswith("HTTP/"):
            body_lines.append(lines[i])
            i += 1
        responses.append((status, headers, "\n".join(body_lines).strip()))
    return responses


def load(path: Path) -> Sample:
    lines = path.read_text().splitlines()
    comments = [line[3:].strip() for line in lines if line.startswith("###")]
    request = next((c for c in comments if c.startswith("REQUEST:")), "")
    match = re.match(r"REQUEST:\s+(\w+)\s+(\S+)", request)
    method, target = (match.group(1), match.group(2)) if match else ("GET", "")
    body = next((c.removeprefix("BODY:").strip() for c in comments if c.startswith("BODY:")), None)
    auth: str | None = "token"
    for c in comments:
        if c.startswith("(no Authorization header)") or "(no header)" in request:
            auth = "none"
        elif c.startswith("Authorization: Basic base64("):
            auth = "base64:" + c.split("base64(", 1)[1].rstrip(")")
        elif c.startswith("header: Authorization:"):
            auth = "raw:" + c.split("Authorization:", 1)[1].strip()
    if "(no header)" in request:
        auth = "none"
    responses = _parse_responses(lines)
    status, headers, text = responses[0]
    if len(responses) > 1:  # a sequence file: the last answer is the one of interest
        status, headers, text = responses[-1]
    return Sample(path.stem, method, target, auth, body, status, headers, text, responses)


def all_samples() -> list[Sample]:
    if not SAMPLES.is_dir():
        return []
    files = sorted(SAMPLES.glob("*.http")) + sorted((SAMPLES / "docker").glob("*.http"))
    return [load(p) for p in files]


def json_shape(value: Any) -> Any:
    """The structure of a JSON value: key sets and types, not the values that vary between runs."""
    if isinstance(value, dict):
        return {k: json_shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [json_shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
