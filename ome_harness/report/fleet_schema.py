"""The JSON Schema of fleet-report.json, shipped in the package for consumers.

`python -m ome_harness.report.fleet_schema` regenerates `fleet-report.schema.json`; a test keeps
the shipped file equal to what the model says and validates real reports against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ome_harness.fleet.model import FleetReport
from ome_harness.results import Status

SCHEMA_PATH = Path(__file__).with_name("fleet-report.schema.json")


def fleet_schema() -> dict[str, Any]:
    schema = FleetReport.model_json_schema(mode="serialization")
    # render_fleet_json adds the verdict fields a pipeline reads first.
    schema["properties"] |= {
        "status": {"enum": [s.value for s in Status]},
        "exit_code": {"type": "integer", "enum": [0, 1]},
        "failed": {"type": "array", "items": {"type": "string"}},
    }
    for definition in [schema, *schema.get("$defs", {}).values()]:
        if "properties" in definition:
            definition["additionalProperties"] = False
    schema["required"] = sorted(
        {*schema.get("required", []), "status", "exit_code", "failed", "schema_version"}
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/ome-harness/ome-harness/fleet-report.schema.json"
    return schema


def schema_text() -> str:
    return json.dumps(fleet_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(SCHEMA_PATH)
