"""Pulling an image: progress per layer, and a registry's refusal inside the stream becomes one named error.

No registry is reachable where these tests run, so the engine's pull stream is replayed here: the
one boundary this suite fakes. Pull failures against a real engine are in test_container_faults.py.
"""

from __future__ import annotations

import io
import threading
import time

import pytest
from docker.errors import APIError, ImageNotFound
from rich.console import Console

from ome_harness.container.errors import ImageUnavailable
from ome_harness.container.image import PullTimedOut, ensure_image, events_within

REF = "ovenmedialabs/ovenmediaengine:v0.21.0"

# As the engine streams them for `POST /images/create` (shortened).
PROGRESS = [
    {"status": "Pulling from ovenmedialabs/ovenmediaengine", "id": "v0.21.0"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "a1b2c3"},
    {"status": "Downloading", "progressDetail": {"current": 1024, "total": 4096}, "id": "a1b2c3"},
    {"status": "Downloading", "progressDetail": {"current": 4096, "total": 4096}, "id": "a1b2c3"},
    {"status": "Pull complete", "progressDetail": {}, "id": "a1b2c3"},
    {"status": "Digest: sha256:" + "ab" * 32},
    {"status": f"Status: Downloaded newer image for {REF}"},
]
REFUSED = [
    {"status": "Pulling from ovenmedialabs/ovenmediaengine", "id": "v9.9.9"},
    {
        "errorDetail": {
            "message": "manifest for ovenmedialabs/ovenmediaengine:v9.9.9 not found: manifest unknown"
        },
        "error": "manifest for ovenmedialabs/ovenmediaengine:v9.9.9 not found: manifest unknown",
    },
]


class _ReplayedEngine:
    def __init__(self, events: list[dict]) -> None:
        self.events, self.pulled, self.present = events, [], False
        self.api, self.images = self, self

    def pull(self, reference: str, stream: bool, decode: bool):
        self.pulled.append(reference)
        yield from self.events
        self.present = not any("error" in e for e in self.events)

    def get(self, reference: str):
        if not self.present:
            raise ImageNotFound(f"No such image: {reference}")
        return {"reference": reference}


def test_a_missing_image_is_pulled_with_progress_and_then_used() -> None:
    engine = _ReplayedEngine(PROGRESS)
    out = io.StringIO()
    image = ensure_image(engine, REF, console=Console(file=out, force_terminal=True, width=100))
    assert engine.pulled == [REF] and image == {"reference": REF}
    assert f"pulling {REF}" in out.getvalue()


def test_a_refusal_inside_the_pull_stream_is_one_error_naming_the_image() -> None:
    engine = _ReplayedEngine(REFUSED)
    with pytest.raises(ImageUnavailable) as caught:
        ensure_image(engine, "ovenmedialabs/ovenmediaengine:v9.9.9", console=Console(file=io.StringIO()))
    assert str(caught.value).startswith(
        "Could not pull image ovenmedialabs/ovenmediaengine:v9.9.9: manifest for"
    )
    assert "manifest unknown" in str(caught.value)


def test_an_image_already_present_is_not_pulled() -> None:
    engine = _ReplayedEngine(PROGRESS)
    engine.present = True
    ensure_image(engine, REF)
    assert engine.pulled == []


class _SilentEngine(_ReplayedEngine):
    """An engine that accepts the pull and then never sends a byte (a stalled registry proxy)."""

    def __init__(self) -> None:
        super().__init__([])
        self.release = threading.Event()

    def pull(self, reference: str, stream: bool, decode: bool):
        self.pulled.append(reference)
        self.release.wait(30)
        yield from ()


def test_a_pull_that_never_answers_is_abandoned_at_its_deadline() -> None:
    engine = _SilentEngine()
    started = time.monotonic()
    try:
        with pytest.raises(ImageUnavailable) as caught:
            ensure_image(engine, REF, pull_timeout=0.5, console=Console(file=io.StringIO()))
    finally:
        engine.release.set()
    assert time.monotonic() - started < 10, "the pull was not bounded by its deadline"
    assert str(caught.value) == (f"Pulling image {REF} took longer than 0.5s (container.pull_timeout); "
                                 "the pull was abandoned.")


def test_a_stream_that_keeps_talking_past_its_deadline_is_cut_off_too() -> None:
    def chatty():
        while True:
            time.sleep(0.05)
            yield {"status": "Waiting"}

    with pytest.raises(PullTimedOut):
        for _ in events_within(chatty, 0.3):
            pass


def test_an_engine_error_inside_the_stream_reaches_the_caller() -> None:
    def failing():
        yield {"status": "Pulling"}
        raise APIError("500 Server Error: engine went away")

    with pytest.raises(ImageUnavailable, match="Could not pull image .*engine went away"):
        ensure_image(_StreamEngine(failing), REF, console=Console(file=io.StringIO()))


class _StreamEngine(_ReplayedEngine):
    def __init__(self, stream) -> None:
        super().__init__([])
        self.stream = stream

    def pull(self, reference: str, stream: bool, decode: bool):
        return self.stream()
