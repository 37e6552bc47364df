"""API-to-viewer latency of id3v2 timed metadata sent with :sendEvent, seen in the emulator's LL-HLS parts."""

from __future__ import annotations

import contextlib

from media_support import TOKEN

from ome_harness.ome.client import OmeClient
from ome_harness.playback.llhls_viewer import LlhlsViewer
from ome_harness.playback.media_truth import percentiles
from ome_harness.playback.timed_metadata import METHOD, measure

pytest_plugins = ["playback_fixtures"]


def test_an_id3v2_event_shows_up_in_the_next_parts_and_its_latency_is_measured(playback):
    with OmeClient(playback.server.url, TOKEN) as client, \
            LlhlsViewer(playback.master_url, keep_media=True) as viewer:
        found, missing = measure(viewer, lambda body: client.send_event("default", "app", "cam", body),
                                 window_s=4.0)
    assert missing == [] and len(found) >= 2, (found, missing)
    numbers = percentiles(list(found.values()), METHOD)
    assert numbers is not None and 0.0 < numbers.p95 < 2.0, numbers


def test_an_event_that_never_reaches_the_stream_is_reported_missing(playback):
    with OmeClient(playback.server.url, TOKEN) as client, \
            LlhlsViewer(playback.master_url, keep_media=True) as viewer:
        # Sent to another live name's path: accepted or not, it is not in this stream's parts.
        found, missing = measure(viewer, lambda body: _try(client, body), window_s=2.5)
    assert found == {} and len(missing) >= 1


def _try(client: OmeClient, body: dict) -> None:
    from ome_harness.ome.errors import OmeError

    with contextlib.suppress(OmeError):
        client.send_event("default", "app", "nosuch", body)
