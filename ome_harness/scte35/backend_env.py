"""Does the deployment's backend offer SCTE-35, and with which break length? Read from its `.env`.

The harness's choice (stated in docs/media.md): a backend `.env` given to `diagnose --env-file`
says the backend offers on-demand SCTE-35 when any `SCTE35_*` key is set to something other than
false/0/off/no (e.g. `SCTE35_ENABLED=true`), and `SCTE35_BREAK_MS` is the break length it sends.
Without such keys nothing is assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

OFF = {"", "0", "false", "off", "no"}
BREAK_KEY = "SCTE35_BREAK_MS"


@dataclass(frozen=True)
class BackendScte35:
    source: str
    offers: bool
    break_ms: float | None = None

    def describe(self) -> str:
        if not self.offers:
            return "no SCTE35_* setting: not offered (as far as the .env says)"
        length = f", breaks of {self.break_ms:g} ms ({BREAK_KEY})" if self.break_ms is not None else ""
        return f"offers on-demand SCTE-35{length}"


def read_backend_scte35(env_file: Path | None) -> BackendScte35 | None:
    """None without a readable .env; otherwise what its SCTE35_* keys say."""
    if env_file is None or not env_file.is_file():
        return None
    values = {k: (v or "") for k, v in dotenv_values(env_file).items() if k.upper().startswith("SCTE35_")}
    offers = any(v.strip().lower() not in OFF for v in values.values())
    raw = values.get(BREAK_KEY, "").strip()
    try:
        break_ms = float(raw) if raw else None
    except ValueError:
        break_ms = None
    return BackendScte35(source=env_file.name, offers=offers, break_ms=break_ms)
