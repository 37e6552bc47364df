"""The client parses every answer a real OME gave (replayed over real HTTP on loopback) into typed
models, and maps every error answer to the right exception with OME's message undecorated."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ome_samples import TOKEN, Sample, all_samples, or_missing, require_samples

from ome_harness.ome import OmeBadRequest, OmeClient, OmeNotFound, OmeUnauthorized
from ome_harness.ome.models import Stats, Stream


@pytest.fixture(autouse=True)
def _samples_present() -> None:
    require_samples()


class _Replay(BaseHTTPRequestHandler):
    sample: Sample

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        sample = self.server.sample  # type: ignore[attr-defined]
        body = sample.text.encode()
        self.send_response(sample.status)
        for key, value in sample.headers.items():
            if key not in ("content-length", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def replay() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def _call_for(sample: Sample) -> Callable[[OmeClient], Any] | None:
    path, method = sample.path.split("?")[0], sample.method
    routes: list[tuple[str, str, Callable[..., Any]]] = [
        ("GET", r"/v1/version", lambda c: c.version()),
        ("GET", r"/v1/vhosts", lambda c: c.vhosts()),
        ("GET", r"/v1/vhosts/([^/]+)", lambda c, v: c.vhost(v)),
        ("GET", r"/v1/vhosts/([^/]+)/apps", lambda c, v: c.apps(v)),
        ("GET", r"/v1/vhosts/([^/]+)/apps/([^/:]+)", lambda c, v, a: c.app(v, a)),
        ("GET", r"/v1/vhosts/([^/]+)/apps/([^/]+)/streams", lambda c, v, a: c.streams(v, a)),
        ("GET", r"/v1/vhosts/([^/]+)/apps/([^/]+)/streams/([^/:]+)", lambda c, v, a, s: c.stream(v, a, s)),
        ("DELETE", r"/v1/vhosts/([^/]+)/apps/([^/]+)/streams/([^/:]+)", lambda c, v, a, s: c.delete_stream(v, a, s)),
        ("POST", r"/v1/vhosts/([^/]+)/apps/([^/]+)/streams/([^/:]+):sendEvent",
         lambda c, v, a, s: c.send_event(v, a, s, {"eventFormat": "scte35", "events": []})),
        ("POST", r"/v1/vhosts/([^/]+)/apps/([^/]+)/streams/([^/:]+):sendEvents",
         lambda c, v, a, s: c.send_events(v, a, s, [])),
        ("GET", r"/v1/stats/current", lambda c: c.stats()),
        ("GET", r"/v1/stats/current/vhosts/([^/]+)", lambda c, v: c.stats(v)),
        ("GET", r"/v1/stats/current/vhosts/([^/]+)/apps/([^/]+)", lambda c, v, a: c.stats(v, a)),
        ("GET", r"/v1/stats/current/vhosts/([^/]+)/apps/([^/]+)/streams/([^/]+)", lambda c, v, a, s: c.stats(v, a, s)),
    ]
    for verb, pattern, fn in routes:
        match = re.fullmatch(pattern, path)
        if verb == method and match:
            args = match.groups()
            return lambda c, fn=fn, args=args: fn(c, *args)
    return None


CLIENT_SAMPLES = [s for s in all_samples() if _call_for(s) is not None and s.auth != "none" and s.text]


@pytest.mark.parametrize("sample", or_missing(CLIENT_SAMPLES), ids=lambda s: s.name if s else "no-samples")
def test_client_parses_what_real_ome_answered(sample: Sample, replay: ThreadingHTTPServer) -> None:
    replay.sample = sample  # type: ignore[attr-defined]
    call = _call_for(sample)
    assert call is not None
    with OmeClient(f"http://127.0.0.1:{replay.server_port}", TOKEN) as client:
        if sample.status in (200, 207):
            value = call(client)
            if isinstance(value, Stream):
                assert value.input.tracks and value.input.source_type in ("Rtmp", "SRT")
            if isinstance(value, Stats):
                assert value.total_bytes_in >= 0 and value.created_time.tzinfo is not None
            return
        expected = {400: OmeBadRequest, 401: OmeUnauthorized, 404: OmeNotFound}[sample.status]
        with pytest.raises(expected) as caught:
            call(client)
        message = sample.json["message"]
        assert caught.value.message == re.sub(r"^\[HTTP\] (.*) \(\d+\)$", r"\1", message, flags=re.S).strip()
        assert "[HTTP]" not in caught.value.message


def test_client_sends_the_token_base64_encoded_alone(replay: ThreadingHTTPServer) -> None:
    replay.sample = next(s for s in all_samples() if s.name == "01_vhosts")  # type: ignore[attr-defined]
    with OmeClient(f"http://127.0.0.1:{replay.server_port}", TOKEN) as client:
        client.vhosts()
    # OME wants base64(token): no "user:" prefix, no trailing colon (ome-api.md).
    assert replay.seen[-1][2] == "Basic b21lLWFwaS10b2tlbi0yMDI0"  # type: ignore[attr-defined]


def test_srt_stream_tracks_are_typed(replay: ThreadingHTTPServer) -> None:
    replay.sample = next(s for s in all_samples() if s.name == "37_stream_srt")  # type: ignore[attr-defined]
    with OmeClient(f"http://127.0.0.1:{replay.server_port}", TOKEN) as client:
        stream = client.stream("default", "app", "srtstream")
    video = stream.tracks_of("Video")[0].video
    audio = stream.tracks_of("Audio")[0].audio
    assert (video.codec, video.width, video.height, video.framerate) == ("H264", 640, 352, 30.0)
    assert (audio.codec, audio.samplerate, audio.channel) == ("AAC", 44100, 1)
