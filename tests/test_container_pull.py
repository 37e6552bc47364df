"""Pulling an image: progress per layer, and a registry's refusal inside the stream becomes one named error.

No registry is reachable where these tests run, so the engine's pull stream is replayed here: the
one boundary this suite fakes. Pull failures against a real engine are in test_container_faults.py.
"""

from __future__ import annotations

import io

import pytest
from docker.errors import ImageNotFound
from rich.console import Console

from ome_harness.container.errors import ImageUnavailable
from ome_harness.container.image import ensure_image

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
    {"errorDetail": {"message": "manifest for ovenmedialabs/ovenmediaengine:v9.9.9 not found: manifest unknown"},
     "error": "manifest for ovenmedialabs/ovenmediaengine:v9.9.9 not found: manifest unknown"},
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
    assert str(caught.value).startswith("Could not pull image ovenmedialabs/ovenmediaengine:v9.9.9: manifest for")
    assert "manifest unknown" in str(caught.value)


def test_an_image_already_present_is_not_pulled() -> None:
    engine = _ReplayedEngine(PROGRESS)
    engine.present = True
    ensure_image(engine, REF)
    assert engine.pulled == []
