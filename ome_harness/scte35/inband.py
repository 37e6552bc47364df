"""An in-band SCTE-35 *probe*: the test signal as MPEG-TS over SRT, carrying SCTE-35 splice inserts.

Not an insertion path: OME ignores SCTE-35 sections of an MPEG-TS input in every version
(`Ignored unsupported or unknown section (table id: 252)`, samples/v0.21.0-media/inband_*;
ome-api.md). The harness keeps it to prove that against a given OME, and reports what it finds
as "no evidence" (verify.py), never as an insertion.

ffmpeg encodes MPEG-TS to a pipe; the injector adds the SCTE-35 stream and sections; a second
ffmpeg carries the bytes unchanged to `srt://HOST:PORT?streamid=VHOST/APP/STREAM` (its `data`
demuxer and muxer copy raw bytes, so nothing is remuxed away — ffmpeg 5.1's MPEG-TS muxer
cannot write SCTE-35 streams itself). Optionally every byte sent is also written to `capture`,
so the harness can prove what went on the wire.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ome_harness.media.encoder import (
    EncoderSettings,
    FfmpegEncoder,
    ffmpeg_command,
    find_ffmpeg,
    wait_listed,
)
from ome_harness.ome.client import OmeClient
from ome_harness.ome.models import Stream
from ome_harness.scte35.insertion import CueSent
from ome_harness.scte35.ts_injection import Inserted, Scte35Injector

CHUNK = 1316 * 4  # whole SRT payloads of 7 TS packets


class InbandCuePublisher:
    """Publish over SRT with SCTE-35 cues at chosen seconds after the stream starts; a context manager."""

    def __init__(self, srt_url: str, settings: EncoderSettings | None = None, *, capture: Path | None = None,
                 pid: int = 0x1F0) -> None:
        ffmpeg = find_ffmpeg()
        self.url = srt_url
        self.settings = settings or EncoderSettings()
        self.injector = Scte35Injector(pid=pid)
        self.capture = capture
        self.sent: list[CueSent] = []
        self.encoder = FfmpegEncoder(srt_url, self.settings, stdout=subprocess.PIPE,
                                     command=ffmpeg_command(srt_url, self.settings, ffmpeg=ffmpeg, output="pipe:1"))
        self.sender = FfmpegEncoder(srt_url, self.settings, stdin=subprocess.PIPE, command=[
            ffmpeg, "-hide_banner", "-nostats", "-loglevel", "warning", "-f", "data", "-i", "pipe:0",
            "-map", "0", "-c", "copy", "-f", "data", srt_url])
        self._pump: threading.Thread | None = None
        self._inserted = threading.Condition()
        self._capture_file: IO[bytes] | None = None

    def schedule_cue(self, event_id: int, at_s: float, *, duration_s: float | None = None, out: bool = True) -> None:
        """A splice insert at the first keyframe `at_s` seconds or more after the stream's first frame."""
        self.injector.schedule(event_id, at_s, duration_s=duration_s, out=out)

    def cue_now(self, event_id: int, *, duration_s: float | None = None, out: bool = True) -> None:
        """A splice insert at the next keyframe from now (the stream's media clock)."""
        self.schedule_cue(event_id, self.injector.elapsed_s + 0.01, duration_s=duration_s, out=out)

    def start(self) -> InbandCuePublisher:
        self._capture_file = self.capture.open("wb") if self.capture else None
        try:
            self.sender.start()
            self.encoder.start()
            self._pump = threading.Thread(target=self._run_pump, name="scte35-injector", daemon=True)
            self._pump.start()
        except BaseException:
            # A half-started pipeline must not leave the sender ffmpeg or the capture file behind.
            self.stop()
            raise
        return self

    def _run_pump(self) -> None:
        source = self.encoder.process.stdout if self.encoder.process else None
        sink = self.sender.process.stdin if self.sender.process else None
        if source is None or sink is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            while chunk := source.read(CHUNK):
                before = len(self.injector.inserted)
                data = self.injector.feed(chunk)
                sink.write(data)
                if self._capture_file is not None:
                    self._capture_file.write(data)
                if len(self.injector.inserted) > before:
                    self._stamp(self.injector.inserted[before:])
        with contextlib.suppress(OSError):
            sink.close()

    def _stamp(self, inserted: list[Inserted]) -> None:
        # The wall-clock moment the section went on the wire: what an output's cut is compared with.
        now = datetime.now(UTC)
        with self._inserted:
            for item in inserted:
                self.sent.append(CueSent(event_id=item.event_id, out=item.out, duration_s=item.duration_s, at=now,
                                         path="in-band"))
            self._inserted.notify_all()

    def wait_sent(self, event_id: int, timeout_s: float) -> CueSent:
        """Block until the cue went out on the wire (its keyframe came); raises TimeoutError otherwise."""
        with self._inserted:
            found = self._inserted.wait_for(lambda: any(c.event_id == event_id for c in self.sent), timeout_s)
        if not found:
            self.check_alive()
            raise TimeoutError(f"SCTE-35 cue {event_id} was not inserted within {timeout_s:g}s "
                               "(no video keyframe reached its time)")
        return next(c for c in self.sent if c.event_id == event_id)

    def check_alive(self) -> None:
        # The sender is the one talking to OME: its words explain a refusal; the encoder then only sees a broken pipe.
        self.sender.check_alive()
        self.encoder.check_alive()

    @property
    def running(self) -> bool:
        return self.sender.running and self.encoder.running

    @property
    def returncode(self) -> int | None:
        return self.sender.returncode

    def wait_exit(self, timeout_s: float) -> int | None:
        """Wait for the SRT side to end on its own (e.g. after OME dropped it)."""
        return self.sender.wait_exit(timeout_s)

    def stderr_tail(self) -> str:
        return f"encoder: {self.encoder.stderr_tail()} / SRT sender: {self.sender.stderr_tail()}"

    def wait_listed(self, client: OmeClient, vhost: str, app: str, stream: str, *, deadline_s: float = 10.0
                    ) -> Stream:
        return wait_listed(client, vhost, app, stream, url=self.url, check_alive=self.check_alive,
                           stderr_tail=self.stderr_tail, deadline_s=deadline_s)

    def stop(self) -> None:
        self.encoder.stop()
        if self._pump is not None:
            self._pump.join(timeout=5)
        self.sender.stop()
        if self._capture_file is not None:
            self._capture_file.close()

    def __enter__(self) -> InbandCuePublisher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
