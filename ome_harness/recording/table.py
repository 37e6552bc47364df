"""docs/real-ome.md's table of behaviours that differ by OME version, generated from the recordings.

Every recording folder under the samples folder (the folder itself and each folder in it that
`read_recording` reads: hand-made or written by `ome-harness record`) is read with its version; each
row derives its cell for a version from those recordings' observations (or, for what no procedure
asks, a file of the folder read as it is) and names the files that back it. A cell no recording backs
keeps the fact stated elsewhere (ome-api.md, from OME's source or a run not kept as a capture) and says
"not recorded". Where a recording and a stated fact disagree, the recording wins.

`python -m ome_harness.recording.table [SAMPLES_DIR]` prints the table; tests/test_real_ome_table.py
holds the doc's table equal to it and checks every cell against the emulator of that version.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ome_harness.recording.compare import playlist_facts
from ome_harness.recording.files import RecordingError, read_recording
from ome_harness.recording.model import Recording

NOT_RECORDED = "not recorded"
HEADER = "| id | behaviour | {versions} | backed by |"
# The order a stream's warm-up figures are named in the table (the SRT rows).
WARM_UP_FIGURES = (("video", "framerate"), ("audio", "samplerate"), ("audio", "channel"),
                   ("video", "width"), ("video", "height"))
DROPPED_IN_LOG = "Duration of the marker must be greater than"  # cue_2s_ome_log.txt
INBAND_IGNORED_IN_LOG = "Ignored unsupported or unknown section (table id: 252)"  # inband_scte35_ome_log.txt
EMPTY_TOKEN_IN_LOG = "Empty <AccessToken> is not allowed"  # empty_token_container_log.txt


def default_samples() -> Path:
    """OMH_SAMPLES_DIR, or ../shared/samples beside the repository (where the project's captures live)."""
    return Path(os.environ.get("OMH_SAMPLES_DIR", Path(__file__).resolve().parents[3] / "shared" / "samples"))


@dataclass
class Evidence:
    """The recordings of one OME version, media folders first; what a row reads and which files it used."""

    samples: Path
    recordings: list[Recording]
    used: list[str] = field(default_factory=list)

    def observed(self, key: str) -> Any:
        """The observation `key` (the first recording that holds it), noting its file; None when none does."""
        for recording in self.recordings:
            observation = recording.observations.get(key)
            if observation is not None:
                self.used.append(self._relative(recording, observation.file))
                return observation
        return None

    def file(self, name: str) -> str | None:
        """A file no procedure asks for (a log, an exit code), read as it is; None when none has it."""
        for recording in self.recordings:
            path = Path(recording.folder) / name
            if name in recording.unmapped and path.is_file():
                self.used.append(self._relative(recording, name))
                return path.read_text(errors="replace")
        return None

    def _relative(self, recording: Recording, name: str) -> str:
        path = Path(recording.folder) / name
        try:
            return str(path.relative_to(self.samples))
        except ValueError:
            return str(path)


Derive = Callable[[Evidence], str | None]


@dataclass(frozen=True)
class Row:
    id: str
    behaviour: str
    derive: Derive  # the cell from a version's recordings, None when they do not show it
    # Facts for versions no recording shows, with where they come from (never a recording).
    stated: dict[str, tuple[str, str]] = field(default_factory=dict)


def _body(observation: Any) -> str:
    return observation.body or observation.text


def _json_response(observation: Any) -> Any:
    try:
        return json.loads(_body(observation)).get("response")
    except (ValueError, AttributeError):
        return None


def _status(key: str) -> Derive:
    def derive(evidence: Evidence) -> str | None:
        observation = evidence.observed(key)
        return str(observation.status) if observation is not None and observation.status else None

    return derive


def _cue_out(api: str, log: str, chunklist: str) -> Derive:
    """`200 cut` / `200 dropped` / a refusal: the :sendEvent answer, then what OME did with the break (its
    log saying it dropped the marker, or a segment cut short in the chunklist after the break)."""

    def derive(evidence: Evidence) -> str | None:
        status = _status(api)(evidence)
        if status != "200":
            return status
        said = evidence.observed(log)
        if said is not None and DROPPED_IN_LOG in _body(said):
            return "200 dropped"
        after = evidence.observed(chunklist)
        if after is not None and _body(after).startswith("#EXTM3U"):
            cut = playlist_facts(_body(after)).get("a segment cut short") == "yes"
            return "200 cut" if cut else "200 no cut"
        return "200"

    return derive


def _first_listing(evidence: Evidence, key: str = "srt-publish/detail-at-first-listing") -> Any:
    observation = evidence.observed(key)
    return _json_response(observation) if observation is not None else None


def _zeroes(stream: Any) -> list[str]:
    tracks = stream.get("input", {}).get("tracks", []) if isinstance(stream, dict) else []
    figures: dict[str, dict[str, Any]] = {}
    for track in tracks:
        for section in ("video", "audio"):
            if isinstance(track.get(section), dict):
                figures.setdefault(section, track[section])
    return [name for section, name in WARM_UP_FIGURES if figures.get(section, {}).get(name) == 0]


def _srt_first_listing(evidence: Evidence) -> str | None:
    stream = _first_listing(evidence)
    return None if stream is None else " ".join(_zeroes(stream) or ["none"]) + " 0"


def _srt_tracks_filled(evidence: Evidence) -> str | None:
    stream = _first_listing(evidence, "srt-publish/detail-filled")
    return None if stream is None else ("filled" if not _zeroes(stream) else "still 0")


def _srt_data_track(evidence: Evidence) -> str | None:
    stream = _first_listing(evidence)
    if stream is None:
        return None
    first = stream["input"]["tracks"][0]
    if first.get("type") != "Data":
        return f"{first.get('type')} first"
    codec = (first.get("data") or {}).get("codec")
    return "Data" + (f" codec {codec}" if codec else "")


def _srt_source_url(evidence: Evidence) -> str | None:
    stream = _first_listing(evidence)
    if stream is None:
        return None
    return re.sub(r"^SRT://[^/]+:\d+", "SRT://IP:PORT", str(stream["input"].get("sourceUrl")))


def _inband(evidence: Evidence) -> str | None:
    log = evidence.file("inband_scte35_ome_log.txt")
    if log is None:
        return None
    return "ignored" if INBAND_IGNORED_IN_LOG in log else "not ignored"


def _empty_token(evidence: Evidence) -> str | None:
    exit_text = evidence.file("empty_token_container_exit.txt")
    if exit_text is None:
        return None
    code = re.search(r"exit code:\s*(-?\d+)", exit_text)
    log = evidence.file("empty_token_container_log.txt") or ""
    return f"exit {code.group(1) if code else '?'}" + (" logged" if EMPTY_TOKEN_IN_LOG in log else "")


_V021_REFUSES = "ome-api.md: v0.21.0 removed `scte35` and `cue` from :sendEvent (from its source)"
ROWS: tuple[Row, ...] = (
    Row("scte35-api-kept-break",
        "`:sendEvent` `scte35` cue-out, break > 1.5 × the app's LL-HLS segment duration",
        _cue_out("send-event/scte35-out-kept-break", "send-event/ome-log-kept-break",
                 "send-event/chunklist-after-kept-break")),
    Row("scte35-api-short-break",
        "`:sendEvent` `scte35` cue-out, break ≤ 1.5 × the segment duration (e.g. 2 s with 6 s segments)",
        _cue_out("send-event/scte35-out-short-break", "send-event/ome-log-short-break",
                 "send-event/chunklist-after-short-break"),
        stated={"0.21.0": ("400", _V021_REFUSES)}),
    Row("cue-api", "`:sendEvent` `cue`", _status("send-event/cue")),
    Row("id3v2-api", "`:sendEvent` `id3v2`", _status("send-event/id3v2")),
    Row("scte35-inband", "SCTE-35 sections in an MPEG-TS input (SRT)", _inband,
        stated={"0.20.0": ("ignored", "ome-api.md: the same depacketizer in v0.20.0 (from its source)")}),
    Row("srt-first-listing",
        "an SRT input's track figures when it is first listed (~0.9 s after the connect)",
        _srt_first_listing),
    Row("srt-tracks-filled", "the same figures about a second later", _srt_tracks_filled),
    Row("srt-data-track", "an SRT input's extra track, listed first", _srt_data_track),
    Row("srt-source-url", "`input.sourceUrl` of an SRT input", _srt_source_url),
    Row("empty-access-token",
        "start with the API bind enabled and `<AccessToken></AccessToken>`", _empty_token,
        stated={"0.21.0": ("exit 0 logged", "ome-api.md: the same on v0.21.0")}),
)


def read_samples(samples: Path) -> dict[str, list[Recording]]:
    """{OME version: its recordings} of the samples folder and each folder in it (media folders first)."""
    folders = [samples, *sorted(p for p in samples.iterdir() if p.is_dir())]
    folders.sort(key=lambda p: (not p.name.endswith("-media"), p != samples, p.name))
    by_version: dict[str, list[Recording]] = {}
    for folder in folders:
        try:
            recording = read_recording(folder)
        except RecordingError:
            continue
        if recording.manifest.ome_version:
            by_version.setdefault(recording.manifest.ome_version, []).append(recording)
    return dict(sorted(by_version.items(), key=lambda item: _version_key(item[0])))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) if n.isdigit() else 0 for n in version.split("."))


@dataclass(frozen=True)
class Cell:
    value: str
    backed_by: list[str]  # the recording files; empty: not recorded (then `stated_in` says where from)
    stated_in: str = ""


def cells(samples: Path) -> tuple[list[str], dict[str, dict[str, Cell]]]:
    """(versions, {row id: {version: cell}}) from the recordings under `samples`."""
    by_version = read_samples(samples)
    table: dict[str, dict[str, Cell]] = {}
    for row in ROWS:
        table[row.id] = {}
        for version, recordings in by_version.items():
            evidence = Evidence(samples, recordings)
            value = row.derive(evidence)
            if value is not None:
                table[row.id][version] = Cell(value, list(dict.fromkeys(evidence.used)))
            elif version in row.stated:
                table[row.id][version] = Cell(row.stated[version][0], [], row.stated[version][1])
            else:
                table[row.id][version] = Cell(NOT_RECORDED, [])
    return list(by_version), table


def table_markdown(samples: Path | None = None) -> str:
    """The Markdown table docs/real-ome.md carries under "Behaviours that differ by version"."""
    samples = samples or default_samples()
    versions, table = cells(samples)
    lines = [HEADER.format(versions=" | ".join(f"v{v}" for v in versions)),
             "|" + "---|" * (len(versions) + 3)]
    for row in ROWS:
        backing = []
        for version in versions:
            cell = table[row.id][version]
            if cell.backed_by:
                backing.append(f"v{version}: " + ", ".join(f"`{name}`" for name in cell.backed_by))
            else:
                stated = f" ({cell.stated_in})" if cell.stated_in else ""
                backing.append(f"v{version}: {NOT_RECORDED}{stated}")
        values = " | ".join(table[row.id][v].value for v in versions)
        lines.append(f"| {row.id} | {row.behaviour} | {values} | {'; '.join(backing)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else default_samples()
    if not folder.is_dir():
        print(f"ome_harness.recording.table: {folder} is not a folder of recordings", file=sys.stderr)
        raise SystemExit(2)
    sys.stdout.write(table_markdown(folder))
