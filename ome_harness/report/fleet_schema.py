"""The JSON Schema of fleet-report.json, shipped in the package for consumers.

`python -m ome_harness.report.fleet_schema` regenerates `fleet-report.schema.json`; a test keeps
the shipped file equal to what the model says and validates real reports against it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ome_harness.fleet.model import FleetReport
from ome_harness.report import schema

SCHEMA_PATH = Path(__file__).with_name("fleet-report.schema.json")


def fleet_schema() -> dict[str, Any]:
    # render_fleet_json adds the verdict and the names of the failed nodes.
    return schema.closed_schema(FleetReport, {
        **schema.VERDICT_PROPERTIES,
        "failed": {"type": "array", "items": {"type": "string"}},
    }, SCHEMA_PATH.name)


def schema_text() -> str:
    return schema.schema_text(fleet_schema())


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(SCHEMA_PATH)
