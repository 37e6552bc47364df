"""SCTE-35 splice info sections, built and read with threefive (never by hand)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
from dataclasses import dataclass

from threefive import Cue, SpliceInsert
from threefive.crc import crc32


class SpliceDecodeError(ValueError):
    """The bytes or text are not a SCTE-35 splice info section."""


@dataclass(frozen=True)
class SpliceFacts:
    """What a decoded splice info section says (the fields a cue check compares)."""

    table_id: int
    command_type: int
    command: str
    event_id: int | None
    out_of_network: bool | None
    duration_s: float | None
    pts_s: float | None
    hex: str

    def describe(self) -> str:
        parts = [self.command]
        if self.event_id is not None:
            parts.append(f"event id {self.event_id}")
        if self.out_of_network is not None:
            parts.append("out of network" if self.out_of_network else "back to network")
        if self.duration_s is not None:
            parts.append(f"break duration {self.duration_s:g}s")
        return ", ".join(parts)


def splice_insert(event_id: int, *, out: bool = True, duration_s: float | None = None,
                  pts_s: float | None = None, auto_return: bool = True) -> Cue:
    """A splice_insert (immediate unless `pts_s` is given) ready to `.hex()`, `.base64()` or `.bytes`."""
    command = SpliceInsert()
    command.splice_event_id = event_id
    command.splice_event_cancel_indicator = False
    command.out_of_network_indicator = out
    command.program_splice_flag = True
    command.duration_flag = bool(out and duration_s)
    if command.duration_flag:
        command.break_auto_return = auto_return
        command.break_duration = round(float(duration_s or 0), 6)
    command.splice_immediate_flag = pts_s is None
    if pts_s is not None:
        command.time_specified_flag = True
        command.pts_time = pts_s
    command.event_id_compliance_flag = True
    command.unique_program_id = 1
    command.avail_num = 0
    command.avails_expected = 0
    cue = Cue()
    cue.command = command
    with contextlib.redirect_stderr(io.StringIO()):
        cue.encode()
    return cue


def decode_splice(data: str | bytes) -> SpliceFacts:
    """Decode hex ('0xFC...'), base64 or raw bytes; the table id and the CRC must be right."""
    raw = _section_bytes(data)
    if raw[0] != 0xFC:
        raise SpliceDecodeError(f"table id 0x{raw[0]:02x}, not SCTE-35's 0xfc")
    # threefive decodes without checking the CRC_32; a corrupted cue must not pass as the one sent.
    if len(raw) < 15 or crc32(raw) != 0:
        raise SpliceDecodeError("CRC_32 mismatch: the splice info section is corrupted")
    # threefive reports some problems on stderr instead of raising: keep the terminal clean.
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            cue = Cue(raw)
            decoded = cue.decode()
        except Exception as exc:  # threefive raises assorted exceptions on garbage
            raise SpliceDecodeError(f"not a SCTE-35 section: {exc}") from None
    if decoded is False or cue.info_section is None or cue.command is None:
        raise SpliceDecodeError("not a SCTE-35 section (threefive could not decode it)")
    table_id = _as_int(cue.info_section.table_id)
    if table_id != 0xFC:
        raise SpliceDecodeError(f"table id 0x{table_id:02x}, not SCTE-35's 0xfc")
    command = cue.command
    return SpliceFacts(
        table_id=table_id,
        command_type=int(command.command_type),
        command=str(command.name),
        event_id=getattr(command, "splice_event_id", None),
        out_of_network=getattr(command, "out_of_network_indicator", None),
        duration_s=getattr(command, "break_duration", None),
        pts_s=getattr(command, "pts_time", None),
        hex=cue.hex(),
    )


def _section_bytes(data: str | bytes) -> bytes:
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
    else:
        text = data.strip()
        try:
            raw = (
                bytes.fromhex(text[2:])
                if text.lower().startswith("0x")
                else base64.b64decode(text, validate=True)
            )
        except (ValueError, binascii.Error):
            raise SpliceDecodeError(f"neither hex (0x...) nor base64: {text[:40]!r}") from None
    if not raw:
        raise SpliceDecodeError("empty SCTE-35 payload")
    return raw


def _as_int(value: object) -> int:
    if isinstance(value, str):
        return int(value, 16) if value.lower().startswith("0x") else int(value)
    return int(value)  # type: ignore[arg-type]
