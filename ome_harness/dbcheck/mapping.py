"""Logical tables and columns the checks speak of, mapped onto a real schema (ours by default).

A user's backend is described in the config file, e.g.:

    backend:
      table_map:
        channels: {table: stream_channels, status: state, active_value: live}
        audit: {table: audit_logs, time: created, "stream.start": START_STREAM}

Keys with a dot in the audit section rename actions; everything not given keeps our default.
"""

from __future__ import annotations

from ome_harness.config import ConfigError

DEFAULT_MAP: dict[str, dict[str, str]] = {
    "channels": {"table": "channels", "id": "id", "status": "status", "stream_key": "stream_key",
                 "active_value": "active", "inactive_value": "inactive"},
    "audit": {"table": "audit_log", "time": "created_at", "action": "action", "channel": "channel_id",
              "outcome": "outcome", "marker": "marker_id", "details": "details", "ok_value": "ok"},
    # Reserved for a marker-table check: no check reads it yet ("marker M was inserted" reads the audit log).
    "markers": {"table": "scte35_markers", "id": "id"},
}
_VALUE_KEYS = {"table", "active_value", "inactive_value", "ok_value"}
REQUIRED: dict[str, set[str]] = {
    "channels": {"table", "id", "status", "stream_key"},
    "audit": {"table", "time", "action", "channel"},
    "markers": {"table", "id"},
}
"""What every check of a table reads; only the other columns may be mapped to '-' (absent)."""


class TableMap:
    """Resolved names: `column(logical, key)`, `value(logical, key)`, `action(name)`."""

    def __init__(self, overrides: dict[str, dict[str, str]] | None = None) -> None:
        self._map: dict[str, dict[str, str]] = {k: dict(v) for k, v in DEFAULT_MAP.items()}
        self._actions: dict[str, str] = {}
        for logical, keys in (overrides or {}).items():
            if logical not in self._map:
                raise ConfigError(f"backend.table_map: unknown table '{logical}' "
                                  f"(known: {', '.join(sorted(self._map))})")
            for key, name in keys.items():
                if not isinstance(name, str) or not name:
                    raise ConfigError(f"backend.table_map.{logical}.{key}: must be a non-empty name")
                if logical == "audit" and "." in key:
                    self._actions[key] = name
                elif key in REQUIRED[logical] and name == "-":
                    raise ConfigError(
                        f"backend.table_map.{logical}.{key}: the checks cannot work without it, so it "
                        "cannot be '-'; name the table or column of your schema that holds it"
                    )
                elif key in self._map[logical]:
                    self._map[logical][key] = name
                else:
                    known = ", ".join(sorted(self._map[logical]))
                    raise ConfigError(f"backend.table_map.{logical}: unknown key '{key}' (known: {known}, "
                                      "or an action name like 'stream.start' in audit)")

    def table(self, logical: str) -> str:
        return self._map[logical]["table"]

    def column(self, logical: str, key: str) -> str | None:
        """The real column, or None when mapped to '-' (the user's schema has no such column)."""
        name = self._map[logical][key]
        return None if name == "-" else name

    def value(self, logical: str, key: str) -> str:
        return self._map[logical][key]

    def action(self, name: str) -> str:
        return self._actions.get(name, name)

    def columns(self, logical: str) -> dict[str, str]:
        """Logical key → real column for every mapped column of a table."""
        return {k: v for k, v in self._map[logical].items() if k not in _VALUE_KEYS and v != "-"}
