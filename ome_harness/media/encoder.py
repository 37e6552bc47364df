"""Debian's ffmpeg as a test encoder: a test pattern with a tone, H.264 + AAC, over RTMP or SRT.

The video is constant-bitrate (x264's HRD with filler), so the bytes OME counts can be compared
with the configured rate; keyframes come at a fixed interval, so segment cuts are predictable.
The encoder is a context manager: whatever happens, ffmpeg is killed on exit.
"""

from __future__ import annotations

import collections
import contextlib
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from ome_harness.ome.client import OmeClient
from ome_harness.ome.errors import OmeError
from ome_harness.ome.models import Stream
from ome_harness.polling import Ready, WaitTimedOut, poll_until

if TYPE_CHECKING:
    from ome_harness.scte35.inband import InbandCuePublisher

INSTALL_HINT = "install it with `apt-get install -y ffmpeg` (Debian/Ubuntu) and make sure it is on PATH"
# A real OME lists an SRT input before it knows its tracks and fills them ~1-2 s later
# (../shared/samples/v0.20.0-media/srt_detail_*, v0.21.0-media/srt_detail_*): how long to wait for that.
TRACKS_DEADLINE_S = 6.0
# OME's first frame-rate figure is an estimate: 32.0 for a 30 fps source (srt_detail_after_1s).
FRAMERATE_TOLERANCE = 0.1


class EncoderError(Exception):
    """The test encoder could not publish; the message says what was seen and what to do."""


class FfmpegMissing(EncoderError):
    """ffmpeg is not installed."""


class EncoderExited(EncoderError):
    """ffmpeg stopped on its own (refused connection, rejected publish, bad option)."""

    def __init__(self, message: str, returncode: int | None, stderr_tail: str) -> None:
        super().__init__(message)
        self.returncode, self.stderr_tail = returncode, stderr_tail


class StreamNotListed(EncoderError):
    """ffmpeg kept running but OME never listed the stream within the deadline."""


@dataclass(frozen=True)
class EncoderSettings:
    """What the test encoder sends; the checks compare OME's view with these numbers."""

    width: int = 640
    height: int = 360
    framerate: int = 30
    video_bitrate: int = 500_000
    audio_bitrate: int = 64_000
    keyframe_interval_s: float = 1.0
    samplerate: int = 44_100
    channels: int = 1
    # VBV buffer in seconds of video: bounds how far any window's byte count can stray from the rate.
    vbv_s: float = 0.5

    @property
    def total_bitrate(self) -> int:
        return self.video_bitrate + self.audio_bitrate

    @property
    def gop(self) -> int:
        return max(1, round(self.framerate * self.keyframe_interval_s))


def find_ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise FfmpegMissing(f"ffmpeg was not found: the test encoder needs it; {INSTALL_HINT}")
    return path


def ffmpeg_command(url: str, settings: EncoderSettings, *, ffmpeg: str = "ffmpeg",
                   duration_s: float | None = None, output: str | None = None) -> list[str]:
    """The ffmpeg command line for `url` (rtmp:// → FLV, srt:// → MPEG-TS; `output` overrides the target)."""
    s = settings
    scheme = urlsplit(url).scheme
    container = {"rtmp": "flv", "rtmps": "flv", "srt": "mpegts", "udp": "mpegts"}.get(scheme, "mpegts")
    command = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning", "-re",
               "-f", "lavfi", "-i", f"testsrc2=size={s.width}x{s.height}:rate={s.framerate}",
               "-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate={s.samplerate}"]
    if duration_s is not None:
        command += ["-t", f"{duration_s:g}"]
    vbv = max(1, int(s.video_bitrate * s.vbv_s))
    command += ["-map", "0:v", "-map", "1:a",
                "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
                "-b:v", str(s.video_bitrate), "-minrate", str(s.video_bitrate), "-maxrate", str(s.video_bitrate),
                "-bufsize", str(vbv), "-x264-params", "nal-hrd=cbr",
                "-g", str(s.gop), "-keyint_min", str(s.gop), "-sc_threshold", "0", "-bf", "0",
                "-c:a", "aac", "-b:a", str(s.audio_bitrate), "-ac", str(s.channels), "-ar", str(s.samplerate),
                "-f", container, output or url]
    return command


class FfmpegEncoder:
    """One ffmpeg process publishing the test signal to `url`; always killed on exit."""

    def __init__(self, url: str, settings: EncoderSettings | None = None, *, duration_s: float | None = None,
                 command: list[str] | None = None, stdin: int | None = None, stdout: int | None = None) -> None:
        self.url = url
        self.settings = settings or EncoderSettings()
        self.duration_s = duration_s
        self._command = command
        self._stdin, self._stdout = stdin, stdout
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._reader: threading.Thread | None = None
        self.started_at: float | None = None

    @property
    def command(self) -> list[str]:
        return self._command or ffmpeg_command(self.url, self.settings, ffmpeg=find_ffmpeg(),
                                               duration_s=self.duration_s)

    def start(self) -> FfmpegEncoder:
        command = self.command
        try:
            self.process = subprocess.Popen(
                command, stdin=self._stdin if self._stdin is not None else subprocess.DEVNULL,
                stdout=self._stdout if self._stdout is not None else subprocess.DEVNULL, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise FfmpegMissing(f"{command[0]} could not be started; {INSTALL_HINT}") from None
        self.started_at = time.monotonic()
        self._reader = threading.Thread(target=self._read_stderr, name="ffmpeg-stderr", daemon=True)
        self._reader.start()
        return self

    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr.append(line)

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_tail(self, lines: int = 8) -> str:
        if self._reader is not None and not self.running:
            self._reader.join(timeout=1)
        return " | ".join(list(self._stderr)[-lines:]) or "(ffmpeg printed nothing)"

    def check_alive(self) -> None:
        """Raise EncoderExited (with ffmpeg's last words) if ffmpeg has stopped."""
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            raise EncoderExited(f"ffmpeg publishing to {self.url} exited with code {code}: {self.stderr_tail()}",
                                code, self.stderr_tail())

    def wait_exit(self, timeout_s: float) -> int | None:
        """Wait for ffmpeg to end on its own (e.g. after OME dropped it); None if it is still running."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def wait_listed(self, client: OmeClient, vhost: str, app: str, stream: str, *, deadline_s: float = 10.0,
                    interval_s: float = 0.25) -> Stream:
        """Poll OME until it lists `stream` with its details; fail early if ffmpeg dies."""
        return wait_listed(client, vhost, app, stream, url=self.url, check_alive=self.check_alive,
                           stderr_tail=self.stderr_tail, deadline_s=deadline_s, interval_s=interval_s)

    def stop(self, timeout_s: float = 3.0) -> int | None:
        """End ffmpeg: SIGTERM, then SIGKILL after `timeout_s`."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout_s)
        if self._reader is not None:
            self._reader.join(timeout=1)
        return process.returncode

    def __enter__(self) -> FfmpegEncoder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_listed(client: OmeClient, vhost: str, app: str, stream: str, *, url: str,
                check_alive: Callable[[], None], stderr_tail: Callable[[], str], deadline_s: float = 10.0,
                interval_s: float = 0.25) -> Stream:
    """Poll OME's stream list until `stream` shows up; `check_alive` raises as soon as the encoder dies."""
    deadline = time.monotonic() + deadline_s
    last_seen = "no answer yet"
    while True:
        check_alive()
        try:
            names = client.streams(vhost, app)
            last_seen = f"streams listed: {names or 'none'}"
            if stream in names:
                return client.stream(vhost, app, stream)
        except OmeError as exc:
            last_seen = f"last API answer: {exc}"
        if time.monotonic() >= deadline:
            raise StreamNotListed(
                f"OME did not list {vhost}/{app}/{stream} within {deadline_s:g}s of publishing to {url} "
                f"({last_seen}); ffmpeg says: {stderr_tail()}")
        time.sleep(interval_s)


class Publisher(Protocol):
    """What a publication's encoder offers (FfmpegEncoder, or the in-band SCTE-35 pipeline)."""

    settings: EncoderSettings

    @property
    def running(self) -> bool: ...
    @property
    def returncode(self) -> int | None: ...
    def stop(self) -> object: ...
    def wait_exit(self, timeout_s: float) -> int | None: ...
    def stderr_tail(self) -> str: ...


@dataclass
class Publication:
    """A running publish that OME has listed: the encoder, where it publishes, and OME's view."""

    encoder: Publisher
    vhost: str
    app: str
    name: str
    listed: Stream
    listed_after_s: float
    problems: list[str] = field(default_factory=list)
    # Seconds from the first listing until OME knew the tracks (0.0 when it knew them at once; None: never).
    tracks_after_s: float | None = 0.0


def unknown_track_facts(stream: Stream) -> list[str]:
    """Track figures OME still shows as 0 (an SRT input's first second); empty once they are known."""
    unknown: list[str] = []
    for track in stream.tracks_of("Video"):
        video = track.video
        if video is not None:
            unknown += [f"video {name}" for name, value in (("width", video.width), ("height", video.height),
                                                            ("framerate", video.framerate)) if value == 0]
    for track in stream.tracks_of("Audio"):
        audio = track.audio
        if audio is not None:
            unknown += [f"audio {name}" for name, value in (("samplerate", audio.samplerate),
                                                            ("channel", audio.channel)) if value == 0]
    return unknown


def wait_tracks_known(client: OmeClient, first: Stream, vhost: str, app: str, *,
                      deadline_s: float = TRACKS_DEADLINE_S) -> tuple[Stream, float | None]:
    """OME's view once the track figures are filled, and how long that took (None: not within the deadline)."""
    if not unknown_track_facts(first):
        return first, 0.0
    latest = first

    def probe() -> Ready[Stream] | str:
        nonlocal latest
        try:
            latest = client.stream(vhost, app, first.name)
        except OmeError as exc:
            return f"last API answer: {exc}"
        unknown = unknown_track_facts(latest)
        return f"still 0: {', '.join(unknown)}" if unknown else Ready(latest)

    started = time.monotonic()
    try:
        known = poll_until(probe, deadline_s=deadline_s, what="OME to fill in the tracks", interval_s=0.2)
    except WaitTimedOut:
        return latest, None
    return known, round(time.monotonic() - started, 3)


def track_problems(stream: Stream, settings: EncoderSettings) -> list[str]:
    """How OME's view of the tracks differs from what the encoder sends (empty when it matches)."""
    problems: list[str] = []
    videos, audios = stream.tracks_of("Video"), stream.tracks_of("Audio")
    video = videos[0].video if videos else None
    audio = audios[0].audio if audios else None
    if video is None:
        problems.append("no video track listed")
    else:
        # OME aligns heights to 16-pixel multiples in its reports (640x360 shows as 640x352).
        heights = {settings.height, settings.height - settings.height % 16}
        if video.codec.upper() != "H264":
            problems.append(f"video codec {video.codec}, sent H264")
        if video.width != settings.width or video.height not in heights:
            problems.append(f"video {video.width}x{video.height}, sent {settings.width}x{settings.height}")
        tolerance = max(1.0, settings.framerate * FRAMERATE_TOLERANCE)
        if video.framerate is not None and abs(video.framerate - settings.framerate) > tolerance:
            problems.append(f"video {video.framerate:g} fps, sent {settings.framerate}")
    if audio is None:
        problems.append("no audio track listed")
    else:
        if audio.codec.upper() != "AAC":
            problems.append(f"audio codec {audio.codec}, sent AAC")
        if audio.samplerate != settings.samplerate:
            problems.append(f"audio {audio.samplerate} Hz, sent {settings.samplerate}")
        if audio.channel is not None and audio.channel != settings.channels:
            problems.append(f"audio {audio.channel} channel(s), sent {settings.channels}")
    return problems


@contextlib.contextmanager
def publish(client: OmeClient, url: str, vhost: str, app: str, name: str, *,
            settings: EncoderSettings | None = None, deadline_s: float = 10.0,
            encoder: FfmpegEncoder | InbandCuePublisher | None = None,
            tracks_deadline_s: float = TRACKS_DEADLINE_S) -> Iterator[Publication]:
    """Start the encoder (ffmpeg to `url` unless one is given), wait until OME lists the stream and knows
    its tracks, yield; stopped after. Tracks still unknown after `tracks_deadline_s` are a problem, not an error."""
    encoder = FfmpegEncoder(url, settings) if encoder is None else encoder
    with encoder:
        started = time.monotonic()
        listed = encoder.wait_listed(client, vhost, app, name, deadline_s=deadline_s)
        listed_after_s = round(time.monotonic() - started, 3)
        known, tracks_after_s = wait_tracks_known(client, listed, vhost, app, deadline_s=tracks_deadline_s)
        problems = track_problems(known, encoder.settings)
        if tracks_after_s is None:
            problems.insert(0, f"OME still showed {', '.join(unknown_track_facts(known))} as 0 "
                               f"{tracks_deadline_s:g}s after listing the stream")
        yield Publication(encoder, vhost, app, name, known, listed_after_s, problems, tracks_after_s)
