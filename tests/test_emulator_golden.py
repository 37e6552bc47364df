"""Golden tests: the emulator answers every captured request of a real OME v0.20.0 with the same
status, headers that matter, envelope, field names, error messages, and the values of 200 answers
except those a live server measures (times, byte counters, bitrates, the publisher's port)."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from ome_samples import TOKEN, Sample, all_samples, json_shape, or_missing, require_samples

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.emulator.state import VideoSpec


@pytest.fixture(autouse=True)
def _samples_present() -> None:
    require_samples()


SEQUENCES = {"80", "81", "82", "83", "84", "85", "d07", "d08", "d09"}
SRT_SAMPLES = {"36", "37"}
# How the sequence samples are replayed (each needs what came before it on the same server).
DELETE_THEN_STILL_THERE = ("80", "d08")
GONE_LATER = ("81", "82", "83", "84", "d09")
DELETE_THEN_GET = "85"
DOCKER_DELETE = ("d07", "d08")
IDLE = {"00", "01", "02", "03", "04", "05", "06", "07"}
# Values a running OME measures, so no two captures agree on them: compared by shape only.
MEASURED = {"createdTime", "lastRecvTime", "lastSentTime", "lastUpdatedTime", "maxTotalConnectionTime",
            "avgThroughputIn", "avgThroughputOut", "lastThroughputIn", "lastThroughputOut", "maxThroughputIn",
            "maxThroughputOut", "totalBytesIn", "totalBytesOut", "bitrate", "bitrateAvg", "bitrateLatest",
            "framerateLatest", "keyFrameInterval", "keyFrameIntervalAvg", "deltaFramesSinceLastKeyFrame",
            "sourceUrl"}
# The one value the emulator changes on purpose: it names itself where OME names its build.
IDENTITY = {("response", "gitVersion")}


def value_differences(expected, got, path=()):  # noqa: ANN001, ANN201
    """Where a 200 answer's values differ from the capture, measured values and the identity aside."""
    if path and (path[-1] in MEASURED or path[-2:] in IDENTITY):
        return []
    if isinstance(expected, dict) and isinstance(got, dict):
        return [d for key in expected for d in value_differences(expected[key], got.get(key), (*path, key))]
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        return [d for i, (e, g) in enumerate(zip(expected, got, strict=True))
                for d in value_differences(e, g, (*path, i))]
    return [] if expected == got else [f"{'.'.join(map(str, path))}: OME {expected!r}, emulator {got!r}"]


def _prefix(sample: Sample) -> str:
    return sample.name.split("_", 1)[0]


def _headers(sample: Sample) -> dict[str, str]:
    if sample.auth is None or sample.auth == "none":
        return {}
    if sample.auth.startswith("raw:"):
        return {"Authorization": sample.auth[4:]}
    token = sample.auth.split(":", 1)[1] if sample.auth.startswith("base64:") else TOKEN
    return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}


def _send(server: EmulatorServer, sample: Sample) -> httpx.Response:
    return httpx.request(sample.method, f"http://127.0.0.1:{server.port}{sample.path}", headers=_headers(sample),
                         content=sample.body.encode() if sample.body is not None else None, timeout=5)


def assert_same_answer(sample: Sample, answer: httpx.Response, status: int, headers: dict[str, str], text: str) -> None:
    assert answer.status_code == status, f"{sample.name}: {answer.text}"
    for header in ("content-type", "server", "www-authenticate", "access-control-allow-methods", "vary"):
        if header in headers:
            assert answer.headers.get(header) == headers[header], f"{sample.name}: header {header}"
    if "content-length" in headers and sample.method == "HEAD":
        assert answer.headers["content-length"] == headers["content-length"]
    if not text:
        assert answer.content == b""
        return
    expected, got = json.loads(text), answer.json()
    assert json_shape(got) == json_shape(expected), f"{sample.name}: shape differs"
    if isinstance(expected, dict) and expected.get("statusCode") != 200:
        if sample.name.startswith("51_"):  # the JSON parser's wording is jsoncpp's; the frame is OME's
            assert got["message"].startswith("[HTTP] [JSON] * Line 1, Column ")
        else:
            assert got["message"] == expected["message"], sample.name
    if isinstance(expected, list):
        assert got == expected
    if status in (200, 207):
        assert value_differences(expected, got) == [], sample.name


@pytest.mark.parametrize("sample", or_missing([s for s in all_samples() if _prefix(s) not in SEQUENCES]),
                         ids=lambda s: s.name if s else "no-samples")
def test_emulator_answers_like_the_real_ome(sample: Sample) -> None:
    with EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN)) as server:
        prefix = _prefix(sample)
        if prefix in SRT_SAMPLES:
            # An SRT input reports the height as sent (v0.2x.0-media/srt_detail_*: 360 for 640x360), so
            # 37's publisher sent 640x352.
            server.state.add_stream("srtstream", source_type="SRT", source_url="SRT://127.0.0.1:55567",
                                    video=VideoSpec(height=352))
        elif prefix not in IDLE and not prefix.startswith(("1", "2", "6", "7")):
            server.state.add_stream("stream")
        assert_same_answer(sample, _send(server, sample), sample.status, sample.headers, sample.text)


def test_delete_is_answered_at_once_and_takes_effect_shortly_after() -> None:
    samples = {_prefix(s): s for s in all_samples() if _prefix(s) in SEQUENCES}
    with EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN)) as server:
        server.state.add_stream("stream")
        for prefix in DELETE_THEN_STILL_THERE:  # DELETE, then a GET right after still finds the stream
            sample = samples[prefix]
            assert_same_answer(sample, _send(server, sample), sample.status, sample.headers, sample.text)
        time.sleep(server.state.delete_lag_s + 0.2)
        for prefix in GONE_LATER:
            sample = samples[prefix]
            assert_same_answer(sample, _send(server, sample), sample.status, sample.headers, sample.text)


def replay_delete_then_get(server: EmulatorServer, sample: Sample, stream: str) -> None:
    """85 holds two answers with no request line: a DELETE and the GET sent right after it."""
    path = f"/v1/vhosts/default/apps/app/streams/{stream}"
    assert len(sample.responses) == 2, "85 should hold the DELETE's and the GET's answer"
    for method, (status, headers, text) in zip(("DELETE", "GET"), sample.responses, strict=True):
        request = Sample(sample.name, method, path, "token", None, status, headers, text)
        assert_same_answer(request, _send(server, request), status, headers, text)


def test_delete_then_an_immediate_get_is_answered_like_ome() -> None:
    samples = {_prefix(s): s for s in all_samples()}
    with EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN)) as server:
        server.state.add_stream("stream")
        replay_delete_then_get(server, samples[DELETE_THEN_GET], "stream")


def test_delete_through_a_containers_port_is_answered_like_ome() -> None:
    samples = {_prefix(s): s for s in all_samples()}
    with EmulatorServer(EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN)) as server:
        server.state.add_stream("stream")
        for prefix in DOCKER_DELETE:  # the docker/ capture: DELETE, then a GET that still finds it
            sample = samples[prefix]
            assert_same_answer(sample, _send(server, sample), sample.status, sample.headers, sample.text)


def test_every_captured_sample_is_replayed() -> None:
    """The README promises every captured response is replayed: each sequence sample is in a test
    above, every other one is a parameter of the single-request replay."""
    replayed = {*DELETE_THEN_STILL_THERE, *GONE_LATER, DELETE_THEN_GET, *DOCKER_DELETE}
    assert replayed == SEQUENCES, f"sequence samples never replayed: {sorted(SEQUENCES - replayed)}"
    assert {_prefix(s) for s in all_samples()} >= SEQUENCES


def test_values_of_200_answers_are_compared() -> None:
    # The comparison itself must catch a wrong value, or the golden tests only check shapes.
    assert value_differences({"response": {"name": "app", "createdTime": "x"}},
                             {"response": {"name": "other", "createdTime": "y"}}) == [
        "response.name: OME 'app', emulator 'other'"]
