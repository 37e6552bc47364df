"""A recording folder on disk: one file per observation in the samples' shapes, and recording.json.

`.http`: `###` lines for the request and its timing, then the status line, the headers and the body as
received (the shape of ../shared/samples/*.http); `.txt`: a timeline (one request a line, as
llhls_warmup_timeline.txt) or a text. The reader also reads hand-made folders (no manifest): see
handmade.py for how their files are named and their version inferred.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

from ome_harness.recording.handmade import handmade_files, infer_version, key_of
from ome_harness.recording.model import Manifest, Observation, Recording, TimelineEntry

MANIFEST = "recording.json"
_TIMELINE = re.compile(
    r"^(?P<series>[\w-]+)\s+sent=\s*(?P<sent>[\d.]+)s\s+answered=\s*(?:(?P<answered>[\d.]+)s|--)"
    r"\s+status=(?P<status>\w+)\s*(?P<extra>.*)$"
)
_ANSWERED = re.compile(r"answered after ([\d.]+) s")
_NO_ANSWER = re.compile(r"no answer within ([\d.]+) ?s")


class RecordingError(Exception):
    """A folder that is not a readable recording (said in one line)."""


# -- writing ---------------------------------------------------------------------------------------
def file_name(observation: Observation) -> str:
    procedure, _, step = observation.key.partition("/")
    if observation.kind != "http":
        suffix = ".txt"
    elif observation.body.startswith("#EXTM3U"):
        suffix = ".m3u8.http"
    else:
        suffix = ".http"
    return f"{procedure}/{step or 'observation'}{suffix}"


def render(observation: Observation) -> str:
    if observation.kind == "timeline":
        lines = [f"# {note}" for note in observation.notes]
        for entry in observation.timeline:
            answered = f"{entry.answered_s:5.2f}s" if entry.answered_s is not None else "--"
            status = entry.status if entry.status is not None else "none"
            lines.append(
                f"{entry.series:<9} sent={entry.sent_s:5.2f}s answered={answered} status={status}"
                + (f" {entry.extra}" if entry.extra else "")
            )
        return "\n".join(lines) + "\n"
    if observation.kind == "text":
        return "".join(f"# {note}\n" for note in observation.notes) + observation.text.rstrip("\n") + "\n"
    lines = [f"### REQUEST: {observation.request}"]
    if observation.auth.startswith("("):
        lines.append(f"### {observation.auth}")
    elif observation.auth:
        lines.append(f"### Authorization: {observation.auth}")
    if observation.sent_body is not None:
        lines.append(f"### BODY: {observation.sent_body}")
    lines.append(f"### observation: {observation.key}")
    if observation.status is None:
        lines.append(f"### {observation.notes[0] if observation.notes else 'no answer'}")
        return "\n".join(lines) + "\n"
    if observation.elapsed_s is not None:
        lines.append(f"### answered after {observation.elapsed_s:.3f} s")
    lines += [f"### note: {note}" for note in observation.notes]
    try:
        phrase = HTTPStatus(observation.status).phrase
    except ValueError:
        phrase = ""
    lines.append(f"HTTP/1.1 {observation.status} {phrase}".rstrip())
    lines += [f"{name}: {value}" for name, value in observation.headers]
    lines += ["", observation.body]
    return "\n".join(lines) + "\n"


def write_recording(recording: Recording, folder: Path, scrub: Callable[[str], str]) -> Path:
    """Write every observation and the manifest, each string through `scrub` (tokens, addresses)."""
    folder.mkdir(parents=True, exist_ok=True)
    for observation in recording.observations.values():
        observation.file = file_name(observation)
        path = folder / observation.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(scrub(render(observation)))
    manifest = recording.manifest.to_json()
    manifest["observations"] = [
        {"key": o.key, "file": o.file, "kind": o.kind} for o in recording.observations.values()
    ]
    # The redaction section is the scrubber's own words and stand-ins: not scrubbed again.
    redaction = manifest.pop("redaction", {})
    manifest = json.loads(scrub(json.dumps(manifest)))
    manifest["redaction"] = redaction
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


# -- reading ---------------------------------------------------------------------------------------
def read_recording(folder: Path) -> Recording:
    """A recording folder (with recording.json) or a hand-made one (its version and layout inferred)."""
    if not folder.is_dir():
        raise RecordingError(
            f"{folder} is not a folder: give a recording folder written by "
            "`ome-harness record` or a folder of captures such as ../shared/samples"
        )
    manifest_path = folder / MANIFEST
    if manifest_path.is_file():
        try:
            data = json.loads(manifest_path.read_text())
            manifest = Manifest.from_json(data)
        except (ValueError, TypeError) as exc:
            raise RecordingError(f"{manifest_path} is not a recording manifest: {exc}") from None
        recording = Recording(manifest, folder=str(folder))
        for item in data.get("observations", []):
            path = folder / item["file"]
            if path.is_file():
                recording.add(parse(path.read_text(errors="replace"), item["key"], item["file"]))
        return recording
    return _read_handmade(folder)


def _read_handmade(folder: Path) -> Recording:
    files = handmade_files(folder)
    if not files:
        raise RecordingError(f"{folder} holds no recording.json and no .http/.m3u8/.txt captures")
    version, how = infer_version(folder)
    manifest = Manifest(
        ome_version=version,
        version_source=how,
        inferred=[
            f"OME version {version or 'unknown'}: {how}",
            "vhost 'default', app 'app', LL-HLS 6 s segments and 0.5 s parts "
            "(OME's defaults, as the samples' README says)",
            "each file's observation from its name (recording/handmade.py)",
        ],
        llhls={"segment_s": 6.0, "part_s": 0.5},
    )
    recording = Recording(manifest, folder=str(folder))
    for path in files:
        relative = str(path.relative_to(folder))
        key = key_of(path, folder)
        if key is None:
            recording.unmapped.append(relative)
            continue
        recording.add(parse(path.read_text(errors="replace"), key, relative))
    return recording


def parse(text: str, key: str, file: str = "") -> Observation:
    """One observation file (written by record, or hand-made) back into an Observation."""
    lines = text.splitlines()
    if any(_TIMELINE.match(line) for line in lines):
        return Observation(
            key,
            "timeline",
            file=file,
            notes=[ln[1:].strip() for ln in lines if ln.startswith("#")],
            timeline=[_entry(m) for ln in lines if (m := _TIMELINE.match(ln))],
        )
    status_at = next((i for i, line in enumerate(lines) if line.startswith("HTTP/1.")), None)
    comments = [line[3:].strip() for line in lines if line.startswith("###")]
    request = next((c.removeprefix("REQUEST:").strip() for c in comments if c.startswith("REQUEST:")), "")
    if status_at is None:
        no_answer = _NO_ANSWER.search(text)
        if no_answer and (request or text.startswith(("GET ", "HEAD "))):
            # "GET /… (50 segments ahead): no answer within 20 s (client timeout)"
            return Observation(
                key,
                "http",
                file=file,
                request=request or text.split(" (", 1)[0].split(":")[0],
                notes=[f"no answer within {no_answer.group(1)} s"],
            )
        # "# " lines are the capturer's comments (notes); "#EXT…" lines are the playlist itself.
        return Observation(
            key,
            "text",
            file=file,
            text="\n".join(ln for ln in lines if not ln.startswith("# ")).strip(),
            notes=[ln[1:].strip() for ln in lines if ln.startswith("#") and not ln.startswith("###")],
        )
    observation = Observation(key, "http", file=file, request=request)
    for comment in comments:
        if comment.startswith("BODY:"):
            observation.sent_body = comment.removeprefix("BODY:").strip()
        elif comment.startswith(("Authorization:", "(no Authorization", "header: Authorization:")):
            observation.auth = comment.removeprefix("header: ").removeprefix("Authorization:").strip()
        elif comment.startswith("note:"):
            observation.notes.append(comment.removeprefix("note:").strip())
        if (answered := _ANSWERED.search(comment)) is not None:
            observation.elapsed_s = float(answered.group(1))
    # A file with several answers (85: DELETE then GET) is about its last one.
    starts = [i for i, line in enumerate(lines) if line.startswith("HTTP/1.")]
    start = starts[-1]
    observation.status = int(lines[start].split()[1])
    i = start + 1
    while i < len(lines) and lines[i].strip():
        name, _, value = lines[i].partition(":")
        observation.headers.append((name.strip(), value.strip()))
        i += 1
    body = []
    for line in lines[i + 1 :]:
        if line.startswith("# ") and not any(b.strip() for b in body):
            break  # an annotated capture (edge/*.txt): its comments follow the answer
        body.append(line)
    observation.body = "\n".join(body).strip()
    return observation


def _entry(match: re.Match[str]) -> TimelineEntry:
    status = match.group("status")
    return TimelineEntry(
        match.group("series"),
        float(match.group("sent")),
        float(match.group("answered")) if match.group("answered") else None,
        int(status) if status.isdigit() else None,
        match.group("extra").strip(),
    )
