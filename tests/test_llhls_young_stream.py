"""A viewer that joins a young stream, a hint at a segment's end, 25 fps parts: the emulator against
real OME's captures (../shared/samples/v0.2x.0-media/playback/), and both viewers against the emulator.

Golden by class, not by the millisecond: the capture's 6 s segments become 1 s here (CI time), and the
timings are compared in segment durations."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import httpx
import m3u8
import pytest
from media_support import TOKEN, free_ports, llhls_url, rtmp_url
from ome_samples import SAMPLES, load, require_samples

from ome_harness.emulator import EmulatorServer, EmulatorSettings
from ome_harness.emulator.llhls_timeline import Timeline
from ome_harness.emulator.state import EmulatedStream
from ome_harness.load.viewer import Answer, LlhlsFollower
from ome_harness.media.encoder import EncoderSettings, FfmpegEncoder
from ome_harness.playback.check import check_playback
from ome_harness.playback.conformance import check_media_playlist, check_preload_hints_resolved
from ome_harness.playback.llhls_player import parse_media_playlist, until_first_playlist, young_stream_wait_s
from ome_harness.playback.llhls_viewer import LlhlsViewer, PlaylistView, ViewerError, hinted_position
from ome_harness.polling import Ready, poll_until
from ome_harness.results import Status
from ome_harness.scte35.verify import PlaylistNotYet, Rendition, fetch_renditions

pytest_plugins = ["media_fixtures"]

PLAYBACK = SAMPLES / "v0.20.0-media" / "playback"
SEGMENT_S = 1.0  # the capture's 6 s segments, shortened: every timing below is in segment durations


# -- the captured timeline, by class --------------------------------------------------------------
@dataclass(frozen=True)
class Fetch:
    what: str  # master | chunklist
    sent: float
    answered: float
    status: int | None


def _captured(version: str) -> list[Fetch]:
    require_samples()
    text = (SAMPLES / f"v{version}-media" / "playback" / "llhls_warmup_timeline.txt").read_text()
    line = r"^(master|chunklist)\s+sent=\s*([\d.]+)s answered=\s*([\d.]+)s status=(\d+)"
    rows = re.findall(line, text, re.M)
    return [Fetch(w, float(s), float(a), int(c)) for w, s, a, c in rows]


def _release(fetches: list[Fetch], what: str) -> float:
    """When the held requests of one kind were answered: the first answer of a 200 that waited > 0.3 s
    (a held request waits at least one part, 0.5 s; a warm one a few ms)."""
    held = [f.answered for f in fetches
            if f.what == what and f.status == 200 and f.answered - f.sent > 0.3]
    assert held, f"no held {what}"
    return min(held)


def _classes(fetches: list[Fetch], what: str) -> list[str]:
    """The run of answer classes (404, 201, held, quick) a series of requests met, repeats folded.
    Held: waited and was answered with the others at the release; quick: any other 200."""
    runs: list[str] = []
    release = _release(fetches, what)
    for f in sorted((f for f in fetches if f.what == what), key=lambda f: f.sent):
        together = f.answered - f.sent > 0.3 and abs(f.answered - release) < 0.15
        kind = str(f.status) if f.status != 200 else "held" if together else "quick"
        if not runs or runs[-1] != kind:
            runs.append(kind)
    return runs


def _spread(fetches: list[Fetch], what: str) -> float:
    """How far apart the held requests of one kind were answered (s)."""
    release = _release(fetches, what)
    held = [f.answered for f in fetches
            if f.what == what and f.status == 200 and f.answered - f.sent > 0.3
            and f.answered - release < 0.5]
    return max(held) - min(held)


def _emulator_timeline(ffmpeg: str) -> list[Fetch]:
    """A master every 0.1 s from before the publish, then also the first chunklist once a master came."""
    fetches: list[Fetch] = []
    lock = threading.Lock()
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=SEGMENT_S)
    with EmulatorServer(settings) as server, httpx.Client(timeout=10) as http:
        url, started = llhls_url(server, "young"), time.monotonic()
        variant: list[str] = []

        def ask(what: str, target: str) -> None:
            sent = time.monotonic() - started
            try:
                answer = http.get(target)
                status, body = answer.status_code, answer.text
            except httpx.HTTPError:
                status, body = None, ""
            with lock:
                fetches.append(Fetch(what, sent, time.monotonic() - started, status))
                if what == "master" and status == 200 and not variant:
                    variant.append(str(httpx.URL(url).join(body.splitlines()[-1])))
                if status == 201:
                    assert body == "", "a 201 has an empty body"

        threads: list[threading.Thread] = []
        with FfmpegEncoder(rtmp_url(server, "young"), EncoderSettings()):
            while time.monotonic() - started < 2 + 4 * SEGMENT_S:
                for what, target in [("master", url)] + ([("chunklist", variant[0])] if variant else []):
                    threads.append(threading.Thread(target=ask, args=(what, target), daemon=True))
                    threads[-1].start()
                time.sleep(0.1)
            for thread in threads:
                thread.join(10)
    return fetches


def test_the_emulators_young_stream_answers_as_real_ome_by_class(ffmpeg: str) -> None:
    captured = _captured("0.20.0")
    # The capture: 404s, one 201, masters held and answered together, then quick; the first chunklists
    # held and answered together one segment (6 s) after the masters.
    assert _classes(captured, "master") == ["404", "201", "held", "quick"]
    assert _classes(captured, "chunklist") == ["held"]
    assert _spread(captured, "master") < 0.1 and _spread(captured, "chunklist") < 0.1
    assert 0.9 < (_release(captured, "chunklist") - _release(captured, "master")) / 6.0 < 1.1
    # v0.21.0: the same, except that no 201 fell between two requests 0.25 s apart.
    assert _classes(_captured("0.21.0"), "master") == ["404", "held", "quick"]

    emulated = _emulator_timeline(ffmpeg)
    assert _classes(emulated, "master") == ["404", "201", "held", "quick"], emulated
    assert _classes(emulated, "chunklist")[0] == "held", emulated
    assert _spread(emulated, "master") < 0.1 and _spread(emulated, "chunklist") < 0.1, emulated
    gap = _release(emulated, "chunklist") - _release(emulated, "master")
    assert 0.7 < gap / SEGMENT_S < 1.4, emulated


# -- the hint at a segment's end, and 25 fps parts -------------------------------------------------
def _timeline(fps: int, seconds: float, *, segment_s: float = 6.0) -> Timeline:
    """A timeline fed `seconds` of frames at `fps`, a keyframe every second (as the captures' encoders)."""
    timeline = Timeline(EmulatedStream("s"), segment_s=segment_s, part_s=0.5, segment_count=10,
                        daterange=False)
    for frame in range(round(seconds * fps) + 1):
        timeline.frame(round(frame * 1000 / fps), frame % fps == 0)
    return timeline


def _captured_text(name: str) -> str:
    require_samples()
    text = (PLAYBACK / name).read_text()
    return text[text.index("#EXTM3U"):]


def _last_segment_lines(text: str) -> list[str]:
    """The lines after the last EXTINF's URI (the open segment and the hint), each part URI reduced to
    OME's (msn, part) in its name, msn counted from the first one there, so that two streams compare."""
    lines = text.splitlines()
    last = max(i for i, line in enumerate(lines) if line.startswith("#EXTINF"))
    tail = [re.sub(r"DATE-TIME:.*", "DATE-TIME", line) for line in lines[last + 2:]]
    first = min(int(m) for m in re.findall(r'URI="part_\d+_(\d+)_', "\n".join(tail)))
    relative = re.compile(r'URI="part_\d+_(\d+)_(\d+)_[^"]*"')
    return [relative.sub(lambda m: f"URI=part +{int(m[1]) - first} {m[2]}", line) for line in tail]


def test_at_a_segments_end_the_hint_names_the_next_segments_part_0_as_real_ome() -> None:
    captured = _captured_text("llhls_preload_hint_at_segment_end.m3u8")
    # 18 s at 30 fps: the frame at 18.0 s (a keyframe) closed segment 2's last part and opened segment 3.
    timeline = _timeline(30, 18.0)
    emulated = timeline.chunklist(0, "video", "s1")
    assert 'URI="part_0_3_0_video' in emulated.splitlines()[-1]
    # The same lines as the capture: the segment's 12 parts listed, no EXTINF, the next segment's part 0.
    assert _last_segment_lines(emulated) == _last_segment_lines(captured)
    assert _last_segment_lines(captured)[-1] == "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=part +1 0"
    # The blocking reload for that hint: segment 2 closed, part 3_0 listed, the hint moves on (as captured).
    for frame in range(541, 556):
        timeline.frame(round(frame * 1000 / 30), False)
    reload = timeline.chunklist(0, "video", "s1")
    across = load(PLAYBACK / "llhls_blocking_reload_across_segment.m3u8.http").text
    assert "seg_0_2_video" in reload and _last_segment_lines(reload) == _last_segment_lines(across)


def test_real_omes_hint_at_a_segments_end_passes_the_preload_hint_rule() -> None:
    views = []
    for name in ("llhls_preload_hint_at_segment_end.m3u8", "llhls_blocking_reload_across_segment.m3u8.http"):
        text = _captured_text(name) if name.endswith(".m3u8") else load(PLAYBACK / name).text
        url = "http://ome:3333/app/stream/chunklist_0_video_llhls.m3u8"
        views.append(PlaylistView(url, text, m3u8.loads(text, uri=url), 0.0))
    assert hinted_position(views[0].playlist) == (102, 0)
    assert check_preload_hints_resolved(views) == []
    assert check_media_playlist(views[0].text) == [] and check_media_playlist(views[1].text) == []
    # Locust's viewer asks the same part next.
    assert parse_media_playlist(views[0].text, views[0].url).hint == (102, 0)


def test_at_25_fps_parts_follow_the_frames_and_part_target_follows_the_parts_as_real_ome() -> None:
    captured = _captured_text("llhls_chunklist_25fps.m3u8")
    emulated = _timeline(25, 16.0).chunklist(0, "video", "s1")
    for tag in ("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.560000",
                "#EXT-X-PART-INF:PART-TARGET=0.520000"):
        assert tag in captured and tag in emulated, emulated

    def closed_segment_parts(text: str) -> list[str]:
        """The part lines of the first closed segment, durations and INDEPENDENT only."""
        lines = text.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("#EXTINF"))
        parts = [line for line in lines[:first] if line.startswith("#EXT-X-PART:")][-12:]
        return [re.sub(r',URI="[^"]*"', "", line) for line in parts]

    assert closed_segment_parts(emulated) == closed_segment_parts(captured)  # 11 × 0.52 s, then 0.28 s
    assert check_media_playlist(emulated) == []  # the rule stays: no part is longer than PART-TARGET
    assert "PART-TARGET=0.500000" in _timeline(30, 16.0).chunklist(0, "video", "s1")


# -- the viewers on a young stream ---------------------------------------------------------------------
def test_a_first_playlist_waits_through_404_201_and_held_answers_and_never_parses_a_201() -> None:
    answers = iter([404, 201, None, 200])
    asked: list[float] = []
    got = until_first_playlist(lambda timeout_s: asked.append(timeout_s) or next(answers),
                               lambda status: status, wait_s=5.0, sleep=lambda _s: None)
    assert got == 200 and len(asked) == 4
    # A refusal that is not a young stream's "not yet" ends the wait at once.
    answers = iter([404, 500, 200])
    refused = until_first_playlist(lambda _t: next(answers), lambda s: s, wait_s=5.0, sleep=lambda _s: None)
    assert refused == 500
    assert young_stream_wait_s(6.0) == young_stream_wait_s(None) == 14.0 and young_stream_wait_s(2) == 6


def test_locusts_viewer_starts_on_a_young_stream() -> None:
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nchunklist_0_video_llhls.m3u8\n"
    chunklist = _captured_text("llhls_preload_hint_at_segment_end.m3u8")
    script = {"llhls.m3u8": [Answer(404), Answer(201), Answer(None), Answer(200, master.encode())],
              "chunklist_0_video_llhls.m3u8": [Answer(None), Answer(200, chunklist.encode())]}
    kinds: list[str] = []

    def fetch(kind: str, url: str, _timeout_s: float) -> Answer:
        kinds.append(kind)
        queue = script.get(url.rsplit("/", 1)[-1].split("?")[0])
        return queue.pop(0) if queue else Answer(200, b"")

    clock = iter(n / 10 for n in range(1000))
    follower = LlhlsFollower("http://ome:3333/app/s/llhls.m3u8", fetch, sleep=lambda _s: None,
                             clock=lambda: next(clock), segment_s=6.0)
    assert follower.start()
    assert kinds[:6] == ["first_playlist"] * 6 and follower.next == (102, 0)
    assert follower.counts.first_playlist_s is not None and follower.counts.first_playlist_s > 0


@pytest.fixture
def young_emulator() -> EmulatorServer:
    settings = EmulatorSettings(hosts=("127.0.0.1",), token=TOKEN, llhls_segment_s=SEGMENT_S)
    with EmulatorServer(settings) as server:
        yield server


def test_the_playback_viewer_joins_a_young_stream_and_reports_its_first_playlist_and_part(
        ffmpeg: str, young_emulator: EmulatorServer) -> None:
    with LlhlsViewer(llhls_url(young_emulator, "young"), segment_s=SEGMENT_S) as viewer:
        # The viewer asks before the publish: 404s, a 201, then held answers, all "not yet".
        with FfmpegEncoder(rtmp_url(young_emulator, "young"), EncoderSettings()):
            viewer.watch(1.5)
        events = viewer.events
        statuses = [e.status for e in events if e.kind == "playlist"]
        figures = viewer.figures()
    assert 404 in statuses and statuses.count(200) >= 2, statuses
    assert any(e.kind == "part" and e.ok for e in events)
    # Masters ~1 segment after the publish began, the first chunklist one segment later, then a part.
    master, playlist, part = (figures[f"time_to_first_{n}_s"] for n in ("master", "playlist", "part"))
    assert master < playlist <= part, figures
    assert figures["time_to_first_playlist_s"] - figures["time_to_first_master_s"] > 0.5 * SEGMENT_S, figures


def test_a_stream_that_never_comes_is_called_broken_after_the_young_streams_wait(
        young_emulator: EmulatorServer) -> None:
    started = time.monotonic()
    never = LlhlsViewer(llhls_url(young_emulator, "never"), segment_s=0.5, timeout_s=1.0)
    with never, pytest.raises(ViewerError, match=r"answered HTTP 404 for 3.0 s \(a young stream is given"):
        never.open()
    assert 2.5 < time.monotonic() - started < 5.0


def test_the_scte35_verifiers_fetches_take_404_201_and_held_as_not_yet(
        ffmpeg: str, young_emulator: EmulatorServer) -> None:
    url, seen = llhls_url(young_emulator, "cue"), set()

    def probe() -> Ready[list[Rendition]] | str:
        try:
            return Ready(fetch_renditions(url, timeout_s=0.3))
        except PlaylistNotYet as exc:  # anything else is an answer about a broken stream: the test fails
            seen.add(next(w for w in ("404", "201", "not answered") if w in str(exc)))
            return str(exc)

    with FfmpegEncoder(rtmp_url(young_emulator, "cue"), EncoderSettings()):
        renditions = poll_until(probe, deadline_s=10, what="the young stream's playlists", interval_s=0.05)
    assert renditions[0].segments
    assert seen == {"404", "201", "not answered"}, seen


def test_a_playback_check_on_a_young_stream_passes_and_reports_its_first_playlist_and_part(
        ffmpeg: str, young_emulator: EmulatorServer) -> None:
    with FfmpegEncoder(rtmp_url(young_emulator, "young"), EncoderSettings()):
        url = llhls_url(young_emulator, "young")
        result = check_playback(url, "young", window_s=2.0, segment_s=SEGMENT_S)
    assert result.status is not Status.ERROR, (result.summary, result.facts.get("findings"))
    assert result.facts["time_to_first_playlist_s"] <= result.facts["time_to_first_part_s"], result.facts
    shown = [e.outcome for e in result.evidence if e.what.startswith("time to first")]
    assert shown and "media playlist" in shown[0] and "part" in shown[0], result.evidence


def test_a_refused_connection_is_not_a_young_stream_and_fails_at_once() -> None:
    (port,) = free_ports(1)
    started = time.monotonic()
    refused = LlhlsViewer(f"http://127.0.0.1:{port}/app/s/llhls.m3u8", segment_s=6.0)
    with refused, pytest.raises(ViewerError, match=r"answered ConnectError") as raised:
        refused.open()
    assert "young stream" not in str(raised.value) and time.monotonic() - started < 2.0
