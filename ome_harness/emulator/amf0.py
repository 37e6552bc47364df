"""AMF0, the value encoding of RTMP commands: just the types an encoder's publish uses.

No maintained Python AMF library exists (PyAMF stopped at Python 2), and RTMP publishing
needs only numbers, booleans, strings, objects, ECMA/strict arrays, null and undefined.
"""

from __future__ import annotations

import struct
from typing import Any


class AmfError(ValueError):
    """The bytes are not AMF0 this module understands."""


class Undefined:
    """AMF0 `undefined` (distinct from null)."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = Undefined()
_OBJECT_END = b"\x00\x00\x09"


def decode_all(data: bytes) -> list[Any]:
    """Every value in a command or data message, in order."""
    values, pos = [], 0
    while pos < len(data):
        value, pos = _decode(data, pos)
        values.append(value)
    return values


def encode(*values: Any) -> bytes:
    return b"".join(_encode(v) for v in values)


def _decode(data: bytes, pos: int) -> tuple[Any, int]:
    try:
        marker = data[pos]
        pos += 1
        if marker == 0x00:
            return struct.unpack_from(">d", data, pos)[0], pos + 8
        if marker == 0x01:
            return data[pos] != 0, pos + 1
        if marker == 0x02:
            return _string(data, pos, 2)
        if marker == 0x0C:
            return _string(data, pos, 4)
        if marker in (0x03, 0x08):
            return _properties(data, pos + (4 if marker == 0x08 else 0))
        if marker == 0x05:
            return None, pos
        if marker == 0x06:
            return UNDEFINED, pos
        if marker == 0x0A:
            count = struct.unpack_from(">I", data, pos)[0]
            pos += 4
            items = []
            for _ in range(count):
                item, pos = _decode(data, pos)
                items.append(item)
            return items, pos
        if marker == 0x0B:
            return struct.unpack_from(">d", data, pos)[0], pos + 10
    except (IndexError, struct.error):
        raise AmfError("truncated AMF0 value") from None
    raise AmfError(f"unsupported AMF0 type marker 0x{marker:02x}")


def _string(data: bytes, pos: int, width: int) -> tuple[str, int]:
    length = int.from_bytes(data[pos:pos + width], "big")
    pos += width
    if pos + length > len(data):
        raise AmfError("truncated AMF0 string")
    return data[pos:pos + length].decode("utf-8", "replace"), pos + length


def _properties(data: bytes, pos: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    while pos < len(data):
        if data[pos:pos + 3] == _OBJECT_END:
            return result, pos + 3
        key, pos = _string(data, pos, 2)
        result[key], pos = _decode(data, pos)
    # Some encoders end an ECMA array at the message end without the end marker.
    return result, pos


def _encode(value: Any) -> bytes:
    if value is None:
        return b"\x05"
    if isinstance(value, Undefined):
        return b"\x06"
    if isinstance(value, bool):
        return b"\x01" + (b"\x01" if value else b"\x00")
    if isinstance(value, int | float):
        return b"\x00" + struct.pack(">d", float(value))
    if isinstance(value, str):
        raw = value.encode()
        return (b"\x02" + struct.pack(">H", len(raw)) if len(raw) < 0x10000
                else b"\x0c" + struct.pack(">I", len(raw))) + raw
    if isinstance(value, dict):
        body = b"".join(
            struct.pack(">H", len(k.encode())) + k.encode() + _encode(v) for k, v in value.items()
        )
        return b"\x03" + body + _OBJECT_END
    if isinstance(value, list | tuple):
        return b"\x0a" + struct.pack(">I", len(value)) + b"".join(_encode(v) for v in value)
    raise AmfError(f"cannot encode {type(value).__name__} as AMF0")
