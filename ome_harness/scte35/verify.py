"""Find a sent SCTE-35 cue again in what a viewer gets, and say which evidence was (not) looked at.

Evidence, from the weakest to the strongest:
- a **segment cut** in LL-HLS: a segment boundary at the cue time (by EXT-X-PROGRAM-DATE-TIME)
  that ends a segment shorter than the target — OME v0.20.0's only visible trace (samples/60);
  and the cue-in cut `duration` later, when the wait covered it;
- a **tag**: EXT-X-DATERANGE with SCTE35-OUT/IN or CUE-OUT/IN tags, its hex/base64 decoded;
- **SCTE-35 sections in MPEG-TS** (a push, a recording, or our own in-band source), decoded.
Decoding uses threefive; the CRC is checked; event id, out-of-network flag and duration are
compared with what was sent.

Timing tolerance (`CueTolerance`): the cut may come up to `late_s` after the moment the cue was
sent: OME applies the cue to the next frame it packages and may wait for the next keyframe
(the v0.20.0 sample's cut landed 0.6–1.6 s after the request; one GOP of our encoder is 1 s),
plus one LL-HLS part (PART-TARGET, 0.5 s by default) for packaging, plus the clock skew between
the harness's host and OME's (0 on one host; NTP keeps hosts within tens of milliseconds).
It may come up to `early_s` before: the encoder's media clock may run a few frames ahead of the
wall clock, and clocks may be skewed the other way.

The cue-in: OME schedules it itself `duration` after the cue-out, aligned to its own part/segment
grid rather than to the millisecond (samples/v0.20.0-media/cue_10s_*: out-cut +0.6 s after the
call, then a short segment ending 12.6 s after the out-cut for a 10 s break). So the cue-in cut is
looked for from `duration` after the out-cut up to one target segment duration (plus `late_s`) later.

A cue OME accepted but drops (`CueSent.not_applied`, the break-length rule) is expected to leave
no trace; the summary then says so in the harness's words instead of "no trace".
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin

import httpx
import m3u8

from ome_harness.playback.llhls_player import DEFAULT_SEGMENT_S, not_yet, young_stream_wait_s
from ome_harness.polling import Deadline, Ready, WaitTimedOut, poll_until
from ome_harness.results import CheckResult, Evidence, Status
from ome_harness.scte35.insertion import CueSent
from ome_harness.scte35.splice import SpliceDecodeError, SpliceFacts, decode_splice

# "unrelated": a tag of another cue (another event id) — reported, never judged against this one.
State = Literal["found", "absent", "mismatch", "not-looked", "unrelated"]
OPEN_SEGMENT = "__open_segment__"
DURATION_SLACK_S = 0.1
CUT_MARGIN_S = 0.3


@dataclass(frozen=True)
class CueTolerance:
    early_s: float = 0.25
    gop_s: float = 1.0
    skew_s: float = 0.25

    def late_s(self, part_target_s: float) -> float:
        return self.gop_s + part_target_s + self.skew_s


@dataclass(frozen=True)
class CueEvidence:
    kind: str
    state: State
    detail: str
    where: str = ""


@dataclass
class CueVerification:
    """Every kind of evidence with its state; `ok` = something found and nothing contradicts the cue."""

    sent: CueSent
    evidence: list[CueEvidence] = field(default_factory=list)
    decoded: list[SpliceFacts] = field(default_factory=list)
    # The playlists judged, kept for the report's segment-timeline chart (report/charts.py).
    renditions: list[Rendition] = field(default_factory=list, repr=False)

    @property
    def found(self) -> list[CueEvidence]:
        return [e for e in self.evidence if e.state == "found"]

    @property
    def mismatches(self) -> list[CueEvidence]:
        return [e for e in self.evidence if e.state == "mismatch"]

    @property
    def ok(self) -> bool:
        return bool(self.found) and not self.mismatches

    @property
    def cut_found(self) -> bool:
        return any(e.kind == "segment cut" for e in self.found)

    def summary(self) -> str:
        kinds = sorted({e.kind for e in self.found})
        if self.sent.not_applied and not kinds:
            return f"cue {self.sent.event_id} {self.sent.not_applied}; the output shows no cut, as OME does"
        if self.sent.not_applied:
            return (f"cue {self.sent.event_id} was expected to be dropped ({self.sent.not_applied}), yet the "
                    f"output shows it as: {', '.join(kinds)}")
        if self.mismatches:
            return "the cue's trace contradicts what was sent: " + "; ".join(
                e.detail for e in self.mismatches
            )
        if not kinds and self.sent.path == "in-band":
            # OME's TS demuxer ignores splice_info sections in every version (samples/v0.21.0-media/inband_*).
            return (
                f"no evidence of in-band SCTE-35 cue {self.sent.event_id} in the output (OME ignores SCTE-35 "
                "sections of an MPEG-TS input in every version): "
                + "; ".join(f"{e.kind}: {e.detail}" for e in self.evidence if e.state == "absent")
            )
        if not kinds:
            return (f"no trace of SCTE-35 cue {self.sent.event_id} in the output: "
                    + "; ".join(f"{e.kind}: {e.detail}" for e in self.evidence if e.state == "absent"))
        return f"cue {self.sent.event_id} found in the output as: {', '.join(kinds)}"

    def to_check_result(self, check_id: str = "scte35.output", title: str = "SCTE-35 cue in the output"
                        ) -> CheckResult:
        marks = {
            "found": "found",
            "absent": "not found",
            "mismatch": "MISMATCH",
            "not-looked": "not looked for",
            "unrelated": "another cue",
        }
        return CheckResult(
            id=check_id,
            title=title,
            status=Status.OK if self.ok else Status.ERROR,
            summary=self.summary(),
            evidence=[
                Evidence(
                    what=f"{e.kind}{f' ({e.where})' if e.where else ''}",
                    outcome=f"{marks[e.state]}: {e.detail}",
                )
                for e in self.evidence
            ],
            remediation=None
            if self.ok
            else (
                "OME accepted the cue but viewers do not get it: check the version's SCTE-35 support "
                "(ome-harness diagnose) and OME's log around the cue time."
            ),
            facts={
                "event_id": self.sent.event_id,
                "path": self.sent.path,
                "sent_at": self.sent.at.isoformat(),
                "decoded": [f.describe() for f in self.decoded],
            },
        )


@dataclass
class _Segment:
    start: datetime
    duration: float
    is_open: bool
    dateranges: list[m3u8.model.DateRange]
    cue_out: bool
    cue_in: bool
    scte35: str | None


@dataclass
class Rendition:
    name: str
    target: float
    part_target: float
    segments: list[_Segment]

    @property
    def covered_until(self) -> datetime | None:
        """The end of the last published media, open segment's parts included."""
        last = self.segments[-1] if self.segments else None
        return last.start + timedelta(seconds=last.duration) if last else None


def parse_chunklist(text: str, name: str = "chunklist") -> Rendition:
    """An LL-HLS media playlist as segments with start times, durations and their cue tags."""
    # m3u8 drops the DATERANGE and PDT of the trailing, still-open segment (it has parts but no
    # EXTINF yet): close it with a sentinel so the library attaches them like any other segment.
    lines = text.rstrip().splitlines()
    tail = next((line for line in reversed(lines) if line and not line.startswith("#EXT-X-PRELOAD-HINT")), "")
    if tail.startswith("#"):
        text = text.rstrip() + f"\n#EXTINF:0,\n{OPEN_SEGMENT}\n"
    playlist = m3u8.loads(text)
    segments: list[_Segment] = []
    cursor: datetime | None = None
    for segment in playlist.segments:
        start = segment.program_date_time or cursor
        if start is None:
            continue
        is_open = segment.uri == OPEN_SEGMENT
        duration = sum(p.duration for p in segment.parts) if is_open else float(segment.duration or 0)
        # A DATERANGE before a segment's parts is attached by m3u8 to the first part.
        dateranges = list(segment.dateranges or []) + [d for p in segment.parts for d in (p.dateranges or [])]
        segments.append(_Segment(start, duration, is_open, dateranges,
                                 bool(segment.cue_out_start), bool(segment.cue_in), segment.scte35))
        cursor = start + timedelta(seconds=duration)
    part_target = playlist.part_inf.part_target if playlist.part_inf else 0.0
    return Rendition(name, float(playlist.target_duration or 0), float(part_target or 0), segments)


def fetch_renditions(llhls_url: str, *, timeout_s: float = 3.0) -> list[Rendition]:
    """The master at `llhls_url` and each media playlist it names (with OME's session token)."""
    with httpx.Client(timeout=timeout_s, trust_env=False, follow_redirects=True) as http:
        master_text = _get(http, llhls_url)
        master = m3u8.loads(master_text)
        uris = [p.uri for p in master.playlists] + [m.uri for m in master.media if m.uri]
        if not master.is_variant:
            return [parse_chunklist(master_text, llhls_url)]
        renditions = []
        for uri in uris:
            url = urljoin(llhls_url, uri)
            renditions.append(parse_chunklist(_get(http, url), uri.split("?")[0].rsplit("/", 1)[-1]))
        return renditions


def _get(http: httpx.Client, url: str) -> str:
    try:
        response = http.get(url)
    except httpx.TimeoutException as exc:
        # Real OME holds a young stream's playlists until it is ready (llhls_warmup_timeline.txt).
        raise PlaylistNotYet(f"GET {url} not answered yet (held: a young stream?)") from exc
    if response.status_code != 200:
        # 404 (not known yet) and 201 (created, not started; empty body) are a young stream's
        # "not yet": never parsed, asked again by the callers' waits.
        young = " (not yet: a young stream)" if not_yet(response.status_code) else ""
        kind = PlaylistNotYet if young else PlaylistUnavailable
        raise kind(f"GET {url} answered {response.status_code}{young}")
    return response.text


class PlaylistUnavailable(Exception):
    """The LL-HLS playlist could not be fetched."""


class PlaylistNotYet(PlaylistUnavailable):
    """The stream is young: OME answered 404 or 201, or held the request (the waits ask again)."""


def wait_for_room_to_cut(llhls_url: str, *, gop_s: float = 1.0, deadline_s: float | None = None,
                         http_timeout_s: float = 3.0, segment_s: float | None = None) -> None:
    """Wait until the next keyframe falls well inside a segment, so that a cut sent now is visible.

    OME cuts at the next keyframe on a fixed segment grid (cue_10s: `0.400` then `5.600`): a cut
    that lands on a regular boundary leaves no short segment, and no one could see it. Where the
    playlist stands (+ one part for packaging, + one GOP until the keyframe) must stay clear of the
    open segment's end."""
    def probe() -> Ready[None] | str:
        try:
            video = fetch_renditions(llhls_url, timeout_s=http_timeout_s)[0]
        except (httpx.HTTPError, PlaylistUnavailable) as exc:
            return str(exc) or type(exc).__name__
        open_segment = video.segments[-1] if video.segments else None
        if open_segment is None or not open_segment.is_open or video.covered_until is None:
            return "no open segment in the playlist yet"
        ends = open_segment.start + timedelta(seconds=video.target)
        left = (ends - video.covered_until).total_seconds()
        needed = gop_s + video.part_target + CUT_MARGIN_S
        return Ready(None) if left > needed else f"{left:.2f}s left in the open segment, {needed:.2f}s needed"

    # A young stream's first chunklist may take two segment durations (+ 2 s), then room to cut up to one
    # more segment: the wait covers both.
    if deadline_s is None:
        deadline_s = max(15.0, young_stream_wait_s(segment_s) + (segment_s or DEFAULT_SEGMENT_S))
    poll_until(probe, deadline_s=deadline_s, what="a moment where a cut would not fall on a segment boundary",
               interval_s=0.1)


def verify_cue_in_llhls(llhls_url: str, sent: CueSent, *, tolerance: CueTolerance | None = None,
                        wait_s: float = 15.0, poll_s: float = 0.5, ts_source: Path | None = None,
                        http_timeout_s: float = 3.0) -> CueVerification:
    """Poll the LL-HLS output until it covers the cue (and its cue-in when `wait_s` allows), then judge."""
    tolerance = tolerance or CueTolerance()
    waited = Deadline(wait_s)
    deadline = time.monotonic() + waited.remaining()
    renditions: list[Rendition] = []
    last_error = ""

    def probe() -> Ready[None] | str:
        nonlocal renditions, last_error
        try:
            renditions = fetch_renditions(llhls_url, timeout_s=http_timeout_s)
            last_error = ""
        except (httpx.HTTPError, PlaylistUnavailable) as exc:
            last_error = str(exc) or type(exc).__name__
            return last_error
        if renditions and all(_covers(r, sent, tolerance, deadline) for r in renditions):
            return Ready(None)
        return "the playlists do not cover the cue yet"

    # Not covered in time is not an error here: the judgement below says what is missing.
    with contextlib.suppress(WaitTimedOut):
        poll_until(probe, deadline=waited, what="the LL-HLS output to cover the cue", interval_s=poll_s)
    if not renditions:
        result = CueVerification(sent=sent)
        result.evidence.append(
            CueEvidence("segment cut", "absent", f"no LL-HLS playlist could be read: {last_error}")
        )
        return result
    return assess_cue(renditions, sent, tolerance=tolerance, ts_source=ts_source)


def assess_cue(renditions: list[Rendition], sent: CueSent, *, tolerance: CueTolerance | None = None,
               ts_source: Path | None = None) -> CueVerification:
    """Judge playlists already fetched (or read from files) against the cue sent."""
    tolerance = tolerance or CueTolerance()
    result = CueVerification(sent=sent, renditions=renditions)
    for rendition in renditions:
        result.evidence += _cut_evidence(rendition, sent, tolerance)
        result.evidence += _tag_evidence(rendition, sent, result.decoded)
    if ts_source is None:
        result.evidence.append(CueEvidence(
            "SCTE-35 in MPEG-TS", "not-looked",
            "OME's LL-HLS is fMP4; SCTE-35 sections travel only in MPEG-TS outputs (push, recording): "
            "give a TS file to look there"))
    else:
        result.evidence += ts_evidence(ts_source, sent, result.decoded)
    return result


def _covers(rendition: Rendition, sent: CueSent, tolerance: CueTolerance, deadline: float) -> bool:
    """Has the playlist's closed part reached past the cue (and past its cue-in, if there is time for it)?"""
    covered_until = rendition.covered_until
    if covered_until is None:
        return False
    needed = sent.at + timedelta(seconds=tolerance.late_s(rendition.part_target or 0.5))
    if sent.duration_s and _cue_in_due_before(sent, tolerance, rendition, deadline):
        # The out-cut may come `late` after the cue; the cue-in window ends `target + late` after that.
        needed += timedelta(
            seconds=sent.duration_s + rendition.target + tolerance.late_s(rendition.part_target or 0.5)
        )
    return covered_until > needed


def _cue_in_due_before(sent: CueSent, tolerance: CueTolerance, rendition: Rendition, deadline: float) -> bool:
    due = sent.at + timedelta(
        seconds=(sent.duration_s or 0) + 2 * tolerance.late_s(rendition.part_target or 0.5) + rendition.target
    )
    seconds_until_due = (due - datetime.now(due.tzinfo)).total_seconds()
    return time.monotonic() + seconds_until_due < deadline


def segment_cuts(rendition: Rendition) -> list[tuple[datetime, float]]:
    """Boundaries that end a segment shorter than the target: cuts, not the regular cadence."""
    short = rendition.target - max(rendition.part_target, 0.1)
    return [(b.start, a.duration) for a, b in zip(rendition.segments, rendition.segments[1:], strict=False)
            if not a.is_open and a.duration < short]


def _nearest_cut(rendition: Rendition, at: datetime, tolerance: CueTolerance, *, grid_s: float = 0.0
                 ) -> tuple[datetime | None, float | None]:
    late = tolerance.late_s(rendition.part_target or 0.5) + grid_s
    best: tuple[datetime | None, float | None] = (None, None)
    for boundary, _ in segment_cuts(rendition):
        offset = (boundary - at).total_seconds()
        if -tolerance.early_s <= offset <= late and (best[1] is None or abs(offset) < abs(best[1])):
            best = (boundary, offset)
    return best


def _cut_evidence(rendition: Rendition, sent: CueSent, tolerance: CueTolerance) -> list[CueEvidence]:
    late = tolerance.late_s(rendition.part_target or 0.5)
    window = f"[-{tolerance.early_s:g}s, +{late:g}s] around {sent.at.isoformat(timespec='milliseconds')}"
    boundary, offset = _nearest_cut(rendition, sent.at, tolerance)
    evidence = []
    if boundary is None:
        nearest = min(
            ((b.start - sent.at).total_seconds() for b in rendition.segments[1:]), key=abs, default=None
        )
        seen = f"nearest segment boundary at {nearest:+.3f}s is the regular cadence" if nearest is not None \
            else "no segment boundary at all"
        evidence.append(CueEvidence("segment cut", "absent", f"no segment cut within {window}; {seen}",
                                    rendition.name))
        return evidence
    evidence.append(
        CueEvidence(
            "segment cut",
            "found",
            f"segment boundary at {boundary.isoformat(timespec='milliseconds')}"
            f" ({offset:+.3f}s from the cue, window {window})",
            rendition.name,
        )
    )
    if sent.duration_s:
        expected_in = boundary + timedelta(seconds=sent.duration_s)
        covered_until = rendition.covered_until
        # OME aligns the cue-in to its grid: up to one target segment after the planned return.
        in_late = late + rendition.target
        if covered_until is None or covered_until < expected_in + timedelta(seconds=in_late):
            evidence.append(CueEvidence("cue-in cut", "not-looked",
                                        f"due at {expected_in.isoformat(timespec='milliseconds')}, after the "
                                        "playlist the wait covered", rendition.name))
        else:
            in_boundary, in_offset = _nearest_cut(rendition, expected_in, tolerance, grid_s=rendition.target)
            if in_boundary is None:
                evidence.append(
                    CueEvidence(
                        "cue-in cut",
                        "absent",
                        f"no cut {sent.duration_s:g}s after the cue-out "
                        f"(window [-{tolerance.early_s:g}s, +{in_late:g}s])",
                        rendition.name,
                    )
                )
            else:
                evidence.append(
                    CueEvidence(
                        "cue-in cut",
                        "found",
                        f"segment boundary {sent.duration_s:g}s later "
                        f"({in_offset:+.3f}s from the planned return)",
                        rendition.name,
                    )
                )
    return evidence


def _tag_evidence(rendition: Rendition, sent: CueSent, decoded: list[SpliceFacts]) -> list[CueEvidence]:
    evidence: list[CueEvidence] = []
    for segment in rendition.segments:
        for daterange in segment.dateranges:
            # One tag may carry both halves of a break: each is judged as what it is.
            halves = [(daterange.scte35_out, True), (daterange.scte35_in, False)]
            if daterange.scte35_out is None and daterange.scte35_in is None:
                halves = [(daterange.scte35_cmd, sent.out)]
            for payload, out in halves:
                if payload is not None:
                    evidence.append(
                        _judge_payload(
                            "EXT-X-DATERANGE",
                            payload,
                            sent,
                            decoded,
                            rendition.name,
                            tag_id=daterange.id,
                            planned=daterange.planned_duration,
                            out=out,
                        )
                    )
        if segment.scte35:
            evidence.append(
                _judge_payload(
                    "CUE-OUT/SCTE35 tag",
                    segment.scte35,
                    sent,
                    decoded,
                    rendition.name,
                    out=not segment.cue_in,
                )
            )
        elif segment.cue_out or segment.cue_in:
            evidence.append(CueEvidence("CUE-OUT/CUE-IN tag", "found", "cue tag without a SCTE-35 payload",
                                        rendition.name))
    if not evidence:
        evidence.append(
            CueEvidence(
                "EXT-X-DATERANGE / CUE tags",
                "absent",
                "no SCTE-35 tag in the playlist (OME v0.20.0 writes none)",
                rendition.name,
            )
        )
    elif all(e.state == "unrelated" for e in evidence):
        evidence.append(
            CueEvidence(
                "EXT-X-DATERANGE / CUE tags",
                "absent",
                f"no SCTE-35 tag for event id {sent.event_id}, only for other cues",
                rendition.name,
            )
        )
    return evidence


def _judge_payload(kind: str, payload: str, sent: CueSent, decoded: list[SpliceFacts], where: str, *,
                   tag_id: str | None = None, planned: float | None = None, out: bool = True) -> CueEvidence:
    try:
        facts = decode_splice(payload)
    except SpliceDecodeError as exc:
        return CueEvidence(kind, "mismatch", f"payload does not decode: {exc}", where)
    if facts.event_id != sent.event_id:
        return CueEvidence(
            kind, "unrelated", f"event id {facts.event_id}, not the cue sent ({sent.event_id})", where
        )
    decoded.append(facts)
    problems = splice_mismatches(facts, sent, out=out)
    if tag_id is not None and facts.event_id is not None and tag_id != str(facts.event_id):
        problems.append(f"tag ID {tag_id!r} differs from the splice event id {facts.event_id}")
    if out and planned is not None and sent.duration_s and abs(planned - sent.duration_s) > DURATION_SLACK_S:
        problems.append(f"PLANNED-DURATION {planned:g}s, sent {sent.duration_s:g}s")
    if problems:
        return CueEvidence(kind, "mismatch", "; ".join(problems), where)
    return CueEvidence(kind, "found", facts.describe(), where)


def splice_mismatches(facts: SpliceFacts, sent: CueSent, *, out: bool = True) -> list[str]:
    """How a decoded splice insert differs from the cue sent (empty when it matches)."""
    problems = []
    if facts.command_type != 5:
        problems.append(f"command is {facts.command}, sent a splice insert")
    if facts.event_id != sent.event_id:
        problems.append(f"event id {facts.event_id}, sent {sent.event_id}")
    if facts.out_of_network is not None and facts.out_of_network != out:
        problems.append(f"out-of-network flag {facts.out_of_network}, expected {out}")
    if (
        out
        and sent.duration_s
        and (facts.duration_s is None or abs(facts.duration_s - sent.duration_s) > DURATION_SLACK_S)
    ):
        problems.append(f"break duration {facts.duration_s}, sent {sent.duration_s:g}s")
    return problems


def read_ts_cues(source: Path) -> list[SpliceFacts]:
    """Every SCTE-35 section in an MPEG-TS file, decoded (and CRC-checked)."""
    found: list[bytes] = []
    # threefive's stream parser prints its findings; the harness keeps its own output clean.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from threefive import Stream

        Stream(str(source)).decode(func=lambda cue: found.append(bytes(cue.bites)))
    facts = []
    for raw in found:
        with contextlib.suppress(SpliceDecodeError):
            facts.append(decode_splice(raw))
    return facts


def ts_evidence(source: Path, sent: CueSent, decoded: list[SpliceFacts]) -> list[CueEvidence]:
    if not Path(source).is_file():
        return [CueEvidence("SCTE-35 in MPEG-TS", "absent", f"{source} does not exist", str(source))]
    facts = [f for f in read_ts_cues(source) if f.command_type == 5]
    if not facts:
        return [
            CueEvidence(
                "SCTE-35 in MPEG-TS",
                "absent",
                "no splice insert section in the transport stream",
                str(source),
            )
        ]
    decoded.extend(facts)
    matching = [f for f in facts if not splice_mismatches(f, sent, out=sent.out)]
    if matching:
        return [CueEvidence("SCTE-35 in MPEG-TS", "found", matching[0].describe(), str(source))]
    return [
        CueEvidence(
            "SCTE-35 in MPEG-TS",
            "mismatch",
            "; ".join(splice_mismatches(facts[0], sent, out=sent.out)),
            str(source),
        )
    ]
