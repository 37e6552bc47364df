"""A small client for the backend contract (ours or a user's): what tests and scenario steps call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ome_harness.redaction import fingerprint


@dataclass(frozen=True)
class BackendAnswer:
    """One answer: status and JSON body (None when the body was not JSON)."""

    status: int
    body: Any

    def __repr__(self) -> str:
        return f"BackendAnswer(status={self.status}, body={hide_stream_keys(self.body)!r})"

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def degraded(self) -> bool:
        return bool(self.body.get("degraded")) if isinstance(self.body, dict) else False

    def field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None


class BackendUnreachable(Exception):
    """The backend did not answer at all."""


class BackendClient:
    """Calls `/api/...` with the bearer token and a timeout; never raises on HTTP error statuses."""

    def __init__(self, base_url: str, token: str | None, *, timeout: float = 15.0) -> None:
        headers = {"Accept": "application/json", "User-Agent": "ome-harness"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, body: Any = None) -> BackendAnswer:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise BackendUnreachable(f"the backend at {self.base_url} did not answer {method} {path}: "
                                     f"{type(exc).__name__}") from None
        try:
            payload = response.json()
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep, no backend's
            payload = None
        return BackendAnswer(response.status_code, payload)

    def create_channel(self, channel_id: str, name: str | None = None, **extra: Any) -> BackendAnswer:
        return self.call("POST", "/api/channels", {"id": channel_id, "name": name or channel_id, **extra})

    def create_marker(self, marker_id: str, **template: Any) -> BackendAnswer:
        return self.call("POST", "/api/markers", {"id": marker_id, "name": template.pop("name", marker_id),
                                                  **template})

    def start(self, channel_id: str) -> BackendAnswer:
        return self.call("POST", f"/api/streams/{_seg(channel_id)}/start")

    def stop(self, channel_id: str) -> BackendAnswer:
        return self.call("POST", f"/api/streams/{_seg(channel_id)}/stop")

    def insert_scte35(self, channel_id: str, marker_id: str) -> BackendAnswer:
        return self.call("POST", f"/api/streams/{_seg(channel_id)}/scte35", {"marker_id": marker_id})

    def streams(self) -> BackendAnswer:
        return self.call("GET", "/api/streams")

    def stream(self, channel_id: str) -> BackendAnswer:
        return self.call("GET", f"/api/streams/{_seg(channel_id)}")


def _seg(value: str) -> str:
    return quote(value, safe="")


def hide_stream_keys(body: Any, known: Iterable[str | None] = ()) -> Any:
    """A body as messages show it: every stream key (a field `stream_key`, or `known`) as a fingerprint.

    Wherever a key appears, also inside a text or as OME's stream name (which defaults to the key).
    """
    keys = {k for k in (*known, *_stream_keys(body)) if k and len(k) >= 3}
    return _replace_keys(body, sorted(keys, key=len, reverse=True)) if keys else body


def _stream_keys(body: Any) -> Iterable[str]:
    if isinstance(body, dict):
        for name, value in body.items():
            if name == "stream_key" and isinstance(value, str):
                yield value
            else:
                yield from _stream_keys(value)
    elif isinstance(body, list):
        for value in body:
            yield from _stream_keys(value)


def _replace_keys(body: Any, keys: list[str]) -> Any:
    if isinstance(body, str):
        for key in keys:
            body = body.replace(key, fingerprint(key))
        return body
    if isinstance(body, dict):
        return {_replace_keys(k, keys): _replace_keys(v, keys) for k, v in body.items()}
    if isinstance(body, list):
        return [_replace_keys(v, keys) for v in body]
    return body
