"""Publish the test signal to a target over RTMP or SRT and follow the stream's life in OME's API.

What scenarios and checks call: they name a target and a stream, the harness picks the URL
(OME's conventions: `rtmp://HOST:PORT/APP/STREAM`, `srt://HOST:PORT?streamid=VHOST/APP/STREAM`).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from ome_harness.media.encoder import (
    EncoderError,
    EncoderSettings,
    FfmpegEncoder,
    Publication,
    publish,
)
from ome_harness.media.metrics import IngestMetrics, assess_ingest, bitrate_tolerance, sample_stream_stats
from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeNotFound
from ome_harness.ome.models import Stream
from ome_harness.target.base import OmeTarget

IngestProtocol = Literal["rtmp", "srt"]


class StreamStillListed(AssertionError):
    """The stream stayed in OME's list past the deadline (after stop or DELETE)."""


def test_stream_name(prefix: str = "omh-") -> str:
    """A fresh name: `media.stream_prefix` + 8 hex digits (a shared OME's operators know it is ours)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def ingest_url(target: OmeTarget, stream: str, protocol: IngestProtocol, app: str | None = None) -> str:
    """Where to publish: the target's configured or known address (MediaAddressUnknown when it has none)."""
    if protocol == "srt":
        if target.kind == "emulator" and not target.srt_base:
            raise ValueError(f"this emulator serves no SRT ingest: {srt_unavailable(target)}")
        return target.srt_url(stream, app)
    return target.rtmp_url(stream, app)


def srt_unavailable(target: OmeTarget) -> str | None:
    """Why an in-process emulator target takes no SRT publish (libsrt missing, no SRT port); None if it does."""
    if target.kind != "emulator" or target.srt_base:
        return None
    reason = getattr(target.emulator, "srt_unavailable", None)
    return reason or "it was started without an SRT port"


def input_track_layout(stream: Stream) -> list[str]:
    """The input's track types in OME's order (an SRT input: Data, Video, Audio — samples 37_*, srt_detail_*)."""
    return [track.type for track in stream.input.tracks]


@contextlib.contextmanager
def open_publication(target: OmeTarget, client: OmeClient, stream: str, *, protocol: IngestProtocol = "rtmp",
                     app: str | None = None, settings: EncoderSettings | None = None, deadline_s: float = 10.0,
                     inband_scte35: bool = False) -> Iterator[Publication]:
    """Publish until the block ends; yields once OME lists the stream (raises EncoderError otherwise)."""
    settings = settings or EncoderSettings()
    url = ingest_url(target, stream, protocol, app)
    target.expect_offered(client, protocol, app)  # the app's config may say it cannot take this protocol
    app = app or target.app
    if inband_scte35:
        from ome_harness.scte35.inband import InbandCuePublisher

        if protocol != "srt":
            raise ValueError("in-band SCTE-35 travels in MPEG-TS: publish over SRT")
        encoder: FfmpegEncoder | InbandCuePublisher = InbandCuePublisher(url, settings)
    else:
        encoder = FfmpegEncoder(url, settings)
    with publish(client, url, target.vhost, app, stream, deadline_s=deadline_s, encoder=encoder) as publication:
        yield publication


def wait_stream_gone(client: OmeClient, vhost: str, app: str, stream: str, *, deadline_s: float = 5.0,
                     interval_s: float = 0.1) -> float:
    """Seconds until OME no longer lists or serves the stream (DELETE and disconnects are asynchronous)."""
    started = time.monotonic()
    while True:
        try:
            client.stream(vhost, app, stream)
        except OmeNotFound:
            if stream not in client.streams(vhost, app):
                return round(time.monotonic() - started, 3)
        if time.monotonic() - started >= deadline_s:
            raise StreamStillListed(f"{vhost}/{app}/{stream} is still listed {deadline_s:g}s later")
        time.sleep(interval_s)


def measure_ingest(client: OmeClient, publication: Publication, *, window_s: float = 5.0) -> IngestMetrics:
    """Sample the stream's stats over `window_s` while it publishes and judge them against the encoder."""
    settings = publication.encoder.settings
    samples = sample_stream_stats(client, publication.vhost, publication.app, publication.name, window_s=window_s)
    return assess_ingest(samples, expected_bitrate=settings.total_bitrate,
                         tolerance=bitrate_tolerance(window_s, settings.vbv_s),
                         publisher=publication.listed.input.source_url)


def publish_in(stack: contextlib.ExitStack, target: OmeTarget, client: OmeClient, stream: str, **options: Any
               ) -> Publication | EncoderError:
    """Enter a publication into `stack` (ended with it); an encoder failure is returned, not raised."""
    try:
        return stack.enter_context(open_publication(target, client, stream, **options))
    except EncoderError as exc:
        return exc


def expect_live(outcome: Publication | EncoderError) -> Publication:
    """For steps: the publication, or an assertion naming why the test signal could not be published."""
    if not isinstance(outcome, Publication):
        raise AssertionError(f"the test signal could not be published: {outcome}")
    return outcome
