"""LL-HLS conformance: named findings, each quoting the offending line.

Rules are from RFC 8216bis (draft-pantos-hls-rfc8216bis) and Apple's LL-HLS spec; the captured
playlists of real OME v0.20/v0.21 (../shared/samples/v0.2x.0-media/playback/) pass every static
rule. Real OME does earn one dynamic finding: `blocking-reload-far-ahead` (it never answers a
reload asked 50 segments ahead: llhls_blocking_reload_far_future.txt), which RFC 8216bis says
should be answered 400 at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from ome_harness.playback.llhls_viewer import (
    FetchEvent,
    LlhlsViewer,
    PlaylistView,
    hinted_position,
    part_positions,
)

_QUERY_VALUE = re.compile(r"([?&])([^=&\"\s]+)=([^&\"\s]*)")
# Durations are written with 6 decimals by OME; anything within a millisecond is the same number.
_TOLERANCE_S = 0.001


@dataclass(frozen=True)
class PlaylistFinding:
    """One broken rule: its name, what is wrong in words, and the line that shows it."""

    rule: str
    message: str
    line: str

    def __post_init__(self) -> None:
        # A playlist line may carry a session token in its URI's query: quoted without the values.
        # The viewer's own `_HLS_*` parameters are kept: they say which reload it was.
        object.__setattr__(
            self,
            "line",
            _QUERY_VALUE.sub(
                lambda m: m.group(0) if m.group(2).startswith("_HLS_") else f"{m.group(1)}{m.group(2)}=…",
                self.line,
            ),
        )

    def __str__(self) -> str:
        return f"{self.rule}: {self.message} — `{self.line}`"


def _tag_value(text: str, tag: str) -> tuple[str, str] | None:
    """(value, whole line) of the first `#TAG:` line."""
    for line in text.splitlines():
        if line.startswith(f"{tag}:"):
            return line.split(":", 1)[1], line
    return None


def _attribute(value: str, name: str) -> str | None:
    match = re.search(rf"(?:^|,){re.escape(name)}=(\"[^\"]*\"|[^,]*)", value)
    return match.group(1).strip('"') if match else None


def check_version(text: str) -> list[PlaylistFinding]:
    """EXT-X-VERSION is present and at least 6 when EXT-X-MAP is used (RFC 8216bis 4.3.2.5 / 7)."""
    found = _tag_value(text, "#EXT-X-VERSION")
    if found is None:
        return [PlaylistFinding("version", "the playlist has no EXT-X-VERSION tag", text.splitlines()[0])]
    value, line = found
    if not value.strip().isdigit():
        return [PlaylistFinding("version", "EXT-X-VERSION is not a number", line)]
    if "#EXT-X-MAP:" in text and int(value) < 6:
        return [
            PlaylistFinding("version", f"EXT-X-MAP needs version 6 or more, the playlist says {value}", line)
        ]
    return []


def check_target_duration(text: str) -> list[PlaylistFinding]:
    """Every EXTINF, rounded to the nearest integer, is at most EXT-X-TARGETDURATION (RFC 8216bis 4.4.3.1)."""
    found = _tag_value(text, "#EXT-X-TARGETDURATION")
    if found is None:
        return [PlaylistFinding("target-duration", "the media playlist has no EXT-X-TARGETDURATION",
                                text.splitlines()[0])]
    target = float(found[0])
    findings = []
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
            if round(duration) > target:
                findings.append(
                    PlaylistFinding(
                        "target-duration",
                        f"a {duration:g} s segment is longer than the target duration {target:g} s",
                        line,
                    )
                )
    return findings


def check_parts(text: str) -> list[PlaylistFinding]:
    """PART-INF present with parts; each part at most PART-TARGET; PART-HOLD-BACK ≥ 3 part targets."""
    part_lines = [line for line in text.splitlines() if line.startswith("#EXT-X-PART:")]
    part_inf = _tag_value(text, "#EXT-X-PART-INF")
    if part_inf is None:
        return [PlaylistFinding("part-target", "parts are listed without EXT-X-PART-INF", part_lines[0])] \
            if part_lines else []
    target_text = _attribute(part_inf[0], "PART-TARGET")
    if target_text is None:
        return [PlaylistFinding("part-target", "EXT-X-PART-INF has no PART-TARGET", part_inf[1])]
    target = float(target_text)
    findings = []
    for line in part_lines:
        duration = float(_attribute(line.split(":", 1)[1], "DURATION") or 0)
        if duration > target + _TOLERANCE_S:
            findings.append(PlaylistFinding(
                "part-target", f"a {duration:g} s part is longer than PART-TARGET {target:g} s", line))
    control = _tag_value(text, "#EXT-X-SERVER-CONTROL")
    hold_back = _attribute(control[0], "PART-HOLD-BACK") if control else None
    if hold_back is None:
        findings.append(PlaylistFinding("part-hold-back", "a playlist with parts has no PART-HOLD-BACK",
                                        control[1] if control else part_inf[1]))
    elif float(hold_back) < 3 * target - _TOLERANCE_S:
        findings.append(PlaylistFinding(
            "part-hold-back", f"PART-HOLD-BACK {float(hold_back):g} s is less than 3 part targets "
                              f"({3 * target:g} s)", control[1] if control else ""))
    return findings


def check_blocking_reload_offered(text: str) -> list[PlaylistFinding]:
    """An LL-HLS playlist (one with parts) offers blocking reload and hints the next part."""
    if "#EXT-X-PART-INF:" not in text:
        return []
    findings = []
    control = _tag_value(text, "#EXT-X-SERVER-CONTROL")
    if control is None or _attribute(control[0], "CAN-BLOCK-RELOAD") != "YES":
        findings.append(
            PlaylistFinding(
                "can-block-reload",
                "the playlist does not offer CAN-BLOCK-RELOAD=YES",
                control[1] if control else "#EXT-X-PART-INF",
            )
        )
    if "#EXT-X-PRELOAD-HINT:" not in text and "#EXT-X-ENDLIST" not in text:
        findings.append(PlaylistFinding("preload-hint", "a live LL-HLS playlist without EXT-X-PRELOAD-HINT",
                                        _tag_value(text, "#EXT-X-PART-INF")[1]))  # type: ignore[index]
    return findings


def check_program_date_time(text: str) -> list[PlaylistFinding]:
    """PROGRAM-DATE-TIME values increase down the playlist."""
    findings = []
    previous: datetime | None = None
    for line in text.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            at = datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00"))
            if previous is not None and at <= previous:
                findings.append(PlaylistFinding("program-date-time", "PROGRAM-DATE-TIME goes back or repeats",
                                                line))
            previous = at
    return findings


def check_media_playlist(text: str) -> list[PlaylistFinding]:
    """Every static rule on one media playlist."""
    return (check_version(text) + check_target_duration(text) + check_parts(text)
            + check_blocking_reload_offered(text) + check_program_date_time(text))


def check_master(text: str) -> list[PlaylistFinding]:
    return check_version(text)


# -- rules over a viewing session ---------------------------------------------------------------
def check_media_sequence(views: list[PlaylistView]) -> list[PlaylistFinding]:
    """EXT-X-MEDIA-SEQUENCE never goes back from one reload to the next (RFC 8216bis 6.2.1)."""
    findings = []
    for before, after in zip(views, views[1:], strict=False):
        if (after.playlist.media_sequence or 0) < (before.playlist.media_sequence or 0):
            line = _tag_value(after.text, "#EXT-X-MEDIA-SEQUENCE")
            findings.append(PlaylistFinding(
                "media-sequence", f"the media sequence went back from {before.playlist.media_sequence} to "
                                  f"{after.playlist.media_sequence}", line[1] if line else ""))
    return findings


def check_preload_hints_resolved(views: list[PlaylistView]) -> list[PlaylistFinding]:
    """Each hinted part shows up, at the URI the hint names, as a part of a later playlist.

    The hint is judged by its URI: at a segment's end real OME hints the NEXT segment's part 0 while
    the current segment's parts are all listed without its EXTINF (llhls_preload_hint_at_segment_end.m3u8,
    then llhls_blocking_reload_across_segment.m3u8.http lists that URI); `hinted_position` reads it so.
    """
    findings = []
    for index, view in enumerate(views[:-1]):
        hint = view.playlist.preload_hint
        position = hinted_position(view.playlist)
        if hint is None or position is None:
            continue
        later = [(m, p, uri) for v in views[index + 1:] for m, p, uri, _ in part_positions(v.playlist)]
        passed = bool(later) and max((m, p) for m, p, _ in later) >= position
        if passed and hint.absolute_uri not in {uri for _m, _p, uri in later}:
            findings.append(
                PlaylistFinding(
                    "preload-hint",
                    f"the hinted part (segment {position[0]}, part {position[1]}) never appeared at the "
                    f"hinted URI, though later playlists reached that part",
                    f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{hint.uri}"',
                )
            )
    return findings


def check_blocking_reloads(events: list[FetchEvent], deadline_s: float) -> list[PlaylistFinding]:
    """Every blocking reload was answered within the viewer's deadline (CAN-BLOCK-RELOAD honoured)."""
    return [
        PlaylistFinding(
            "blocking-reload",
            f"the reload for segment {e.msn} part {e.part} was not answered "
            f"within {deadline_s:g} s ({e.error})",
            f"GET {e.uri}?_HLS_msn={e.msn}&_HLS_part={e.part}",
        )
        for e in events
        if e.kind == "blocking_reload" and e.status is None
    ]


def check_reloads_held(viewer: LlhlsViewer) -> list[PlaylistFinding]:
    """A blocking reload comes back only once the asked part is listed (RFC 8216bis 6.2.5.2)."""
    return [
        PlaylistFinding(
            "blocking-reload",
            f"the reload for segment {e.msn} part {e.part} came back after "
            f"{e.latency_s:.3f} s without that part (not held)",
            f"GET {e.uri}?_HLS_msn={e.msn}&_HLS_part={e.part}",
        )
        for e in viewer.unheld_reloads[:3]
    ]


def check_session_tokens(viewer: LlhlsViewer) -> list[PlaylistFinding]:
    """The query the master put on the variant URI (a session token) is on every playlist request."""
    if viewer.media_url is None:
        return []
    given = set(parse_qs(urlsplit(viewer.media_url).query))
    return [
        PlaylistFinding(
            "session-token",
            "a playlist was asked without the master's query (session token)",
            f"GET {urlsplit(view.url).path}",
        )
        for view in viewer.playlists
        if not given <= set(parse_qs(urlsplit(view.url).query))
    ]


def check_viewing(viewer: LlhlsViewer) -> list[PlaylistFinding]:
    """Every rule over what a viewer saw: each distinct playlist text once, then the session rules."""
    findings = check_master(viewer.master_text) if viewer.master_text else []
    seen: set[PlaylistFinding] = set()
    for view in viewer.playlists:
        for finding in check_media_playlist(view.text):
            if finding not in seen:
                seen.add(finding)
                findings.append(finding)
    return (findings + check_media_sequence(viewer.playlists) + check_preload_hints_resolved(viewer.playlists)
            + check_blocking_reloads(viewer.events, viewer.reload_deadline_s) + check_reloads_held(viewer)
            + check_session_tokens(viewer))


def probe_far_ahead_reload(
    viewer: LlhlsViewer, *, ahead: int = 50, deadline_s: float = 2.0
) -> list[PlaylistFinding]:
    """Ask a blocking reload `ahead` segments in the future: RFC 8216bis says answer 400 at once.

    Real OME v0.20/v0.21 never answers (llhls_blocking_reload_far_future.txt): it earns this finding.
    """
    if viewer.media_url is None or not viewer.playlists:
        return []
    playlist = viewer.playlists[-1].playlist
    msn = (playlist.media_sequence or 0) + len(playlist.segments) + ahead
    event = viewer.probe_reload(msn, 0, deadline_s)
    if event.status is None:
        return [
            PlaylistFinding(
                "blocking-reload-far-ahead",
                f"a reload asked {ahead} segments ahead got no answer within {deadline_s:g} s "
                f"(RFC 8216bis: answer 400); a player needs its own deadline",
                f"GET {event.uri}?_HLS_msn={msn}&_HLS_part=0",
            )
        ]
    return []
