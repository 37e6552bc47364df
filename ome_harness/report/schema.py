"""The JSON Schema of results.json (and connection-report.json), shipped in the package for consumers.

`python -m ome_harness.report.schema` regenerates `results.schema.json`; a test keeps the shipped
file equal to what the model says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ome_harness.results import Report, Status

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")


def results_schema() -> dict[str, Any]:
    schema = Report.model_json_schema(mode="serialization")
    # render_json adds the verdict fields a pipeline reads first.
    schema["properties"] |= {
        "status": {"enum": [s.value for s in Status]},
        "exit_code": {"type": "integer", "enum": [0, 1]},
        "counts": {"type": "object", "required": [s.value for s in Status],
                   "properties": {s.value: {"type": "integer", "minimum": 0} for s in Status},
                   "additionalProperties": False},
    }
    # Every object of the model is closed: a renamed or misspelled field is a schema violation.
    for definition in [schema, *schema.get("$defs", {}).values()]:
        if "properties" in definition:
            definition["additionalProperties"] = False
    schema["required"] = sorted({*schema.get("required", []), "status", "exit_code", "counts", "schema_version"})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/ome-harness/ome-harness/results.schema.json"
    return schema


def schema_text() -> str:
    return json.dumps(results_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(SCHEMA_PATH)
