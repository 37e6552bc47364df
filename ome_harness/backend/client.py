"""A small client for the backend contract (ours or a user's): what tests and scenario steps call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx


@dataclass(frozen=True)
class BackendAnswer:
    """One answer: status and JSON body (None when the body was not JSON)."""

    status: int
    body: Any

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
        except ValueError:
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
