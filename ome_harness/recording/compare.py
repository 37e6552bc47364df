"""Two observations of the same question: do they agree, and if not, what is the first difference?

What is compared (the issue's rule, and ../shared/samples/README.md's golden-data rule):
- an answer: its status (or no answer at all), the headers clients act on, the JSON envelope, and the
  field names and types of `response` (deep: every key path and value type); OME's error message with
  the stream's name replaced;
- a playlist: its tags and the rules a player follows (version, target duration, part target, server
  control, preload hint, session-less URIs, a cut segment);
- a timeline: each series as its sequence of classes (refused, 201, held, answered at once).
Values that a live server measures (bytes, times, bitrates) are never compared.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ome_harness.recording.model import Observation, TimelineEntry

HEADERS = ("content-type", "www-authenticate", "access-control-allow-methods")
DEEP_HEADERS = (*HEADERS, "content-encoding", "cache-control", "vary", "server")
HELD_S = 0.2  # a blocking reload answered later than this was held until its part existed
# In a warm-up timeline the holds last until a segment exists (5-6 s in llhls_warmup_timeline.txt), while a
# loaded server may take ~1 s to answer at once (7.67 s → 8.69 s there): 2 s tells them apart.
TIMELINE_HELD_S = 2.0
# Requests whose answer waits for the media (a part that does not exist yet): compared as held or not.
HELD_STEPS = ("blocking-reload", "blocking-reload-across-segment")
# Recorded lines that say the observation could not be made over the network.
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class Difference:
    what: str
    expected: str
    got: str


class CannotCompare(Exception):
    """The two sides cannot be compared (one says it could not observe this)."""


def compare(expected: Observation, got: Observation, *, deep: bool = False) -> Difference | None:
    """The first difference between two observations of the same key, or None when they agree."""
    texts = (_content(expected), _content(got))
    for text in texts:
        if text.startswith(NOT_RECORDED):
            raise CannotCompare(text.splitlines()[0])
    if "timeline" in (expected.kind, got.kind):
        if expected.kind != got.kind:
            return Difference("kind", expected.kind, got.kind)
        return _timelines(expected, got)
    if "text" not in (expected.kind, got.kind):
        if (expected.status is None) != (got.status is None) or expected.status != got.status:
            return Difference("status", _status(expected), _status(got))
        if expected.status is None:
            return None
        difference = _headers(expected, got, deep) or _held(expected, got) or _first_listing(expected, got)
        if difference:
            return difference
    return _bodies(texts[0], texts[1], expected, got, deep)


def _content(observation: Observation) -> str:
    return observation.text if observation.kind == "text" else observation.body


def _status(observation: Observation) -> str:
    if observation.status is None:
        return observation.notes[0] if observation.notes else "no answer"
    return str(observation.status)


def _headers(expected: Observation, got: Observation, deep: bool) -> Difference | None:
    for name in DEEP_HEADERS if deep else HEADERS:
        want = expected.header(name)
        if want is None:
            continue
        have = got.header(name)
        if (have or "").replace(" ", "").lower() != want.replace(" ", "").lower():
            return Difference(f"header {name}", want, have or "(absent)")
    return None


def unknown_track_figures(body: str) -> str:
    """The input's track figures still 0 (an SRT input when first listed: srt_detail_at_first_listing)."""
    data = _json(body)
    tracks = data.get("response", {}).get("input", {}).get("tracks", []) if isinstance(data, dict) else []
    zero = []
    for track in tracks if isinstance(tracks, list) else []:
        for section, names in (
            ("video", ("width", "height", "framerate")),
            ("audio", ("samplerate", "channel")),
        ):
            figures = track.get(section) if isinstance(track, dict) else None
            if isinstance(figures, dict):
                zero += [f"{section} {name}" for name in names if figures.get(name) == 0]
    return ", ".join(zero) or "none"


def _first_listing(expected: Observation, got: Observation) -> Difference | None:
    """Which track figures a stream shows as 0 when first listed is the behaviour (v0.20.0 vs v0.21.0)."""
    if not expected.key.endswith("detail-at-first-listing"):
        return None
    mine, theirs = unknown_track_figures(expected.body), unknown_track_figures(got.body)
    return None if mine == theirs else Difference("track figures 0 at first listing", mine, theirs)


def _held(expected: Observation, got: Observation) -> Difference | None:
    if not expected.key.endswith(HELD_STEPS) or expected.elapsed_s is None or got.elapsed_s is None:
        return None
    classes = [
        ("held" if o.elapsed_s >= HELD_S else "at once") + f" ({o.elapsed_s:.3f} s)"  # type: ignore[operator]
        for o in (expected, got)
    ]
    if classes[0].split(" (")[0] != classes[1].split(" (")[0]:
        return Difference("answered", classes[0], classes[1])
    return None


# -- bodies -----------------------------------------------------------------------------------------
def _bodies(want: str, have: str, expected: Observation, got: Observation, deep: bool) -> Difference | None:
    want, have = _reply(want.strip()), _reply(have.strip())
    if want.startswith("#EXTM3U") or have.startswith("#EXTM3U"):
        return _playlists(want, have, deep)
    if want.startswith("<") and want.endswith(">") and " bytes of " in want:  # a binary body: its type
        kind = want.split(" bytes of ", 1)[1]
        return None if have.endswith(f"of {kind}") else Difference("body", want, have[:80])
    want_json, have_json = _json(want), _json(have)
    if want_json is _NOT_JSON:
        if not want:
            return None if not have else Difference("body", "(empty)", have[:120])
        return (
            None
            if _first_line(want) == _first_line(have)
            else Difference("text", _first_line(want), _first_line(have))
        )
    if have_json is _NOT_JSON:
        return Difference("body", want[:120], have[:120] or "(empty)")
    if isinstance(want_json, dict) and "statusCode" in want_json:
        difference = _envelope(want_json, have_json, expected, got)
        if difference:
            return difference
        want_json = want_json.get("response")
        have_json = have_json.get("response") if isinstance(have_json, dict) else None
    return _shapes(want_json, have_json, deep)


_NOT_JSON = object()
REPLY = "reply: "


def _reply(text: str) -> str:
    """A signalling reply written `reply: {...}` (edge_webrtc_request_offer.txt: a Python dict; record: JSON)
    as JSON, so its fields are compared like any answer's."""
    if not text.startswith(REPLY):
        return text
    line = text.removeprefix(REPLY).splitlines()[0]
    try:
        return json.dumps(json.loads(line))
    except ValueError:
        pass
    try:
        return json.dumps(ast.literal_eval(line))
    except (ValueError, SyntaxError, TypeError):
        return text


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _first_line(text: str) -> str:
    return next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")[:160]


def _envelope(want: dict, have: Any, expected: Observation, got: Observation) -> Difference | None:
    if not isinstance(have, dict):
        return Difference("envelope", "OME's {statusCode, message, response}", type(have).__name__)
    if sorted(want) != sorted(have):
        return Difference("envelope keys", ", ".join(sorted(want)), ", ".join(sorted(have)))
    if want.get("statusCode") != have.get("statusCode"):
        return Difference("statusCode", str(want.get("statusCode")), str(have.get("statusCode")))
    if want.get("statusCode") not in (200, 201, 207):
        mine, theirs = _message(want, expected), _message(have, got)
        if mine != theirs and not _json_parser_wording(mine, theirs):
            return Difference("message", str(want.get("message")), str(have.get("message")))
    return None


def _message(body: dict, observation: Observation) -> str:
    """OME's message with the request's stream name replaced (each recording names its own streams)."""
    message = str(body.get("message", ""))
    match = re.search(r"/streams/([^/?:]+)", observation.request)
    if match:
        for name in {match.group(1), unquote(match.group(1))}:  # "[default/#default#app/NAME]"
            message = message.replace(f"/{name}]", "/{stream}]")
    return message


def _json_parser_wording(a: str, b: str) -> bool:
    return a.startswith("[HTTP] [JSON]") and b.startswith("[HTTP] [JSON]")


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


def key_paths(value: Any, prefix: str = "", depth: int | None = None) -> dict[str, str]:
    """Every key path and its value's type; list items merged under `[]`; `depth` levels at most."""
    paths: dict[str, str] = {prefix or ".": type_name(value)}
    if depth == 0:
        return paths
    below = None if depth is None else depth - 1
    if isinstance(value, dict):
        for key, item in value.items():
            paths.update(key_paths(item, f"{prefix}.{key}", below))
    elif isinstance(value, list):
        for item in value:
            for path, kind in key_paths(item, f"{prefix}[]", below).items():
                if paths.get(path, kind) != kind:
                    kind = f"{paths[path]}|{kind}"
                paths[path] = kind
    return paths


def _shapes(want: Any, have: Any, deep: bool) -> Difference | None:
    mine, theirs = key_paths(want, depth=None if deep else 1), key_paths(have, depth=None if deep else 1)
    for path, kind in mine.items():
        if path not in theirs:
            if _under_empty_list(path, theirs):
                continue
            return Difference(f"field {path}", kind, "(absent)")
        if theirs[path] != kind and not _compatible(kind, theirs[path]):
            return Difference(f"type of {path}", kind, theirs[path])
    for path, kind in theirs.items():
        if path not in mine and not _under_empty_list(path, mine):
            return Difference(f"field {path}", "(absent)", kind)
    return None


def _under_empty_list(path: str, paths: dict[str, str]) -> bool:
    """A list that is empty on one side says nothing about its items' fields (an idle server's list)."""
    head = path
    while "[]" in head:
        head = head.rsplit("[]", 1)[0]
        if paths.get(head or ".") == "array" and not any(p.startswith(head + "[]") for p in paths):
            return True
    return False


def _compatible(a: str, b: str) -> bool:
    return set(a.split("|")) & set(b.split("|")) != set()


# -- playlists --------------------------------------------------------------------------------------
_TAG = re.compile(r"^#(EXT[\w-]*)(?::(.*))?$")


def playlist_facts(text: str, deep: bool = False) -> dict[str, str]:
    """The facts of a playlist a player acts on (a rule each), and its tag names."""
    tags: dict[str, list[str]] = {}
    uris = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    uris += re.findall(r'URI="([^"]+)"', text)
    for line in text.splitlines():
        match = _TAG.match(line.strip())
        if match:
            tags.setdefault(match.group(1), []).append(match.group(2) or "")
    facts = {"tags": ", ".join(sorted(t for t in tags if t != "EXT-X-PROGRAM-DATE-TIME" or deep))}
    for tag in ("EXT-X-VERSION", "EXT-X-TARGETDURATION"):
        if tag in tags:
            facts[tag] = tags[tag][0]
    if "EXT-X-PART-INF" in tags:
        facts["PART-TARGET"] = tags["EXT-X-PART-INF"][0]
    if "EXT-X-SERVER-CONTROL" in tags:
        attributes = dict(a.split("=", 1) for a in tags["EXT-X-SERVER-CONTROL"][0].split(",") if "=" in a)
        facts["SERVER-CONTROL"] = (
            ", ".join(sorted(attributes)) if not deep else tags["EXT-X-SERVER-CONTROL"][0]
        )
        if "CAN-BLOCK-RELOAD" in attributes:
            facts["CAN-BLOCK-RELOAD"] = attributes["CAN-BLOCK-RELOAD"]
    facts["URIs carry a session"] = "yes" if any("session=" in u for u in uris) else "no"
    if "EXTINF" in tags:
        durations = [float(v.split(",")[0]) for v in tags["EXTINF"]]
        target = float(tags.get("EXT-X-TARGETDURATION", ["0"])[0])
        facts["a segment cut short"] = "yes" if any(d < target - 0.5 for d in durations) else "no"
    return facts


def _playlists(want: str, have: str, deep: bool) -> Difference | None:
    if not have.startswith("#EXTM3U"):
        return Difference("body", "a playlist (#EXTM3U)", have[:80] or "(empty)")
    if not want.startswith("#EXTM3U"):
        return Difference("body", want[:80] or "(empty)", "a playlist (#EXTM3U)")
    mine, theirs = playlist_facts(want, deep), playlist_facts(have, deep)
    for fact, value in mine.items():
        if fact == "tags" and theirs.get(fact) != value:
            # The tags one side has and the other has not, rather than two long lists.
            a, b = set(value.split(", ")), set(theirs.get(fact, "").split(", "))
            return Difference(
                "playlist tags",
                ", ".join(sorted(a - b)) or "(none more)",
                ", ".join(sorted(b - a)) or "(none more)",
            )
        if theirs.get(fact) != value:
            return Difference(f"playlist {fact}", value, theirs.get(fact, "(absent)"))
    return None


# -- timelines --------------------------------------------------------------------------------------
def entry_class(entry: TimelineEntry) -> str:
    if entry.status is None:
        return "no answer"
    if entry.status >= 400:
        return f"refused {entry.status}"
    if entry.status == 201:
        return "201"
    if entry.answered_s is not None and entry.answered_s - entry.sent_s > TIMELINE_HELD_S:
        return "held"
    return "at once"


def series_classes(entries: list[TimelineEntry]) -> dict[str, list[str]]:
    """Each series as its run-length-compressed sequence of classes (counts vary with timing)."""
    series: dict[str, list[str]] = {}
    for entry in entries:
        classes = series.setdefault(entry.series, [])
        kind = entry_class(entry)
        if entry.extra.startswith("listed="):
            kind += f" {entry.extra}"
        if not classes or classes[-1] != kind:
            classes.append(kind)
    return series


def _timelines(expected: Observation, got: Observation) -> Difference | None:
    mine, theirs = series_classes(expected.timeline), series_classes(got.timeline)
    for name, classes in mine.items():
        other = theirs.get(name, [])
        if any(c.endswith("listed=yes") for c in classes):
            # A first listing: that it came within the deadline, not how many polls it took.
            if not any(c.endswith("listed=yes") for c in other):
                return Difference(f"{name}", " → ".join(classes), " → ".join(other) or "(no request)")
            continue
        # The 201 answers one request in a window shorter than the 0.25 s interval: it may be missed.
        a, b = _squeeze([c for c in classes if c != "201"]), _squeeze([c for c in other if c != "201"])
        if a != b:
            return Difference(f"{name} sequence", " → ".join(classes), " → ".join(other) or "(no request)")
    return None


def _squeeze(classes: list[str]) -> list[str]:
    return [c for i, c in enumerate(classes) if i == 0 or classes[i - 1] != c]
