"""One rule for naming a live stream on the command line: `APP/STREAM`, or `STREAM` in the configured app.

`diagnose --playback` and `load --stream` both take it (issue 20: one took a bare name, the other
`APP/STREAM`). OME's own playback paths are `/APP/STREAM/...` (ome-api.md), so a name with a further
`/`, a `?` or white space could only build a wrong URL: it is refused, with what to give instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = r"[^/?#\s]+"


class StreamRefError(ValueError):
    """The text names no stream: one sentence saying what to give."""


@dataclass(frozen=True)
class StreamRef:
    name: str
    app: str | None = None  # None: the configured application's

    def path(self, default_app: str) -> str:
        """`APP/STREAM`, the bare name placed in `default_app`."""
        return f"{self.app or default_app}/{self.name}"


def parse_stream_ref(text: str, flag: str) -> StreamRef:
    """`APP/STREAM` or `STREAM`; StreamRefError names `flag` for anything else."""
    found = re.fullmatch(rf"(?:({_PART})/)?({_PART})", text)
    if not found:
        raise StreamRefError(f"{flag} {text!r}: give APP/STREAM (e.g. app/stream), or STREAM for a stream "
                             "of the configured application")
    return StreamRef(name=found.group(2), app=found.group(1))
