"""The same media checks against a real OvenMediaEngine container (opt-in: needs the image and Docker).

Set OMH_REAL_OME_IMAGE (e.g. ovenmedialabs/ovenmediaengine:v0.20.0 or :v0.21.0) to run them;
without it they are skipped with one line, since no OME image can be pulled on this machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ome_harness.config import HarnessConfig
from ome_harness.media.publishing import measure_ingest, open_publication, wait_stream_gone
from ome_harness.ome.versions import capabilities
from ome_harness.scte35.break_rule import app_segment_duration, break_for, not_applied_reason, too_short_break
from ome_harness.scte35.insertion import CueRefused, insert_cue, send_cue_via_api
from ome_harness.scte35.verify import verify_cue_in_llhls, wait_for_room_to_cut
from ome_harness.target.base import OmeTarget
from ome_harness.testing import require

pytest_plugins = ["media_fixtures"]
pytestmark = [pytest.mark.media, pytest.mark.docker, pytest.mark.container]
IMAGE = os.environ.get("OMH_REAL_OME_IMAGE")


@pytest.fixture(scope="module")
def real_ome(tmp_path_factory) -> Iterator[OmeTarget]:
    if not IMAGE:
        pytest.skip("real OME: set OMH_REAL_OME_IMAGE=ovenmedialabs/ovenmediaengine:v0.20.0 (or :v0.21.0) "
                    "and provide a Docker engine; no OME image on this machine")
    from ome_harness.target.container import container_target

    cfg = HarnessConfig(container={"image": IMAGE, "ready_timeout": 90},
                        report={"out": str(tmp_path_factory.mktemp("real-ome"))})
    try:
        with container_target(cfg) as target:
            yield target
    except Exception as exc:  # no engine, no image: one line, a failure on CI
        require(False, f"real OME {IMAGE} could not be launched: {exc}")


def test_rtmp_publish_stats_cue_and_delete_on_real_ome(ffmpeg, real_ome):
    with real_ome.client() as client:
        version = client.version().version
        with open_publication(real_ome, client, "rtmpcheck", deadline_s=20) as pub:
            assert pub.problems == []
            assert pub.listed.input.source_type == "Rtmp"
            metrics = measure_ingest(client, pub, window_s=5)
            assert metrics.ok, metrics.problems
            if capabilities(version).scte35_api:
                # A break the app keeps (read from OME's app config) shows as a cut; one at the limit is dropped.
                segment_s = app_segment_duration(client, pub.vhost, pub.app)
                wait_for_room_to_cut(real_ome.llhls_url("rtmpcheck"))
                sent = insert_cue(client, pub, event_id=777, duration_s=break_for(segment_s), version=version)
                result = verify_cue_in_llhls(real_ome.llhls_url("rtmpcheck"), sent, wait_s=20)
                assert result.ok, result.summary()
                wait_for_room_to_cut(real_ome.llhls_url("rtmpcheck"))
                short = insert_cue(client, pub, event_id=778, duration_s=too_short_break(segment_s), version=version)
                assert short.not_applied == not_applied_reason(segment_s)
                dropped = verify_cue_in_llhls(real_ome.llhls_url("rtmpcheck"), short, wait_s=6)
                assert not dropped.cut_found, dropped.summary()
            else:
                with pytest.raises(CueRefused, match=r"eventFormat is not supported: \[scte35\]"):
                    send_cue_via_api(client, pub.vhost, pub.app, pub.name, event_id=1, duration_s=3,
                                     version=version)
            client.delete_stream(pub.vhost, pub.app, pub.name)
            assert pub.encoder.wait_exit(10) is not None, "OME's DELETE must disconnect the publisher"
            wait_stream_gone(client, pub.vhost, pub.app, pub.name, deadline_s=10)


def test_an_inband_cue_leaves_no_trace_on_real_ome(ffmpeg, real_ome):
    # Every version ignores SCTE-35 sections of an MPEG-TS input (samples/v0.21.0-media/inband_*).
    with real_ome.client() as client, open_publication(real_ome, client, "srtcheck", protocol="srt",
                                                       inband_scte35=True, deadline_s=20) as pub:
        assert pub.listed.input.source_type == "SRT"
        assert pub.problems == []
        pub.encoder.cue_now(779, duration_s=30.0)
        sent = pub.encoder.wait_sent(779, timeout_s=10)
        result = verify_cue_in_llhls(real_ome.llhls_url("srtcheck"), sent, wait_s=8)
        assert not result.cut_found, result.summary()
        assert result.summary().startswith("no evidence of in-band SCTE-35 cue 779")
