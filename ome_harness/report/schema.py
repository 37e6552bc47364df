"""The JSON Schema of results.json (and connection-report.json), shipped in the package for consumers.

`python -m ome_harness.report.schema` regenerates `results.schema.json`; a test keeps the shipped
file equal to what the model says. `closed_schema` is shared with the fleet report's schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ome_harness.results import Report, Status

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")

# The verdict fields every JSON report adds beside its model, read first by a pipeline.
VERDICT_PROPERTIES = {
    "status": {"enum": [s.value for s in Status]},
    "exit_code": {"type": "integer", "enum": [0, 1]},
}


def closed_schema(model: type[BaseModel], added: dict[str, Any], file_name: str) -> dict[str, Any]:
    """The model's serialisation schema plus the fields its renderer adds (`added`, all required), every
    object closed: a renamed or misspelled field is a schema violation."""
    schema = model.model_json_schema(mode="serialization")
    schema["properties"] |= added
    for definition in [schema, *schema.get("$defs", {}).values()]:
        if "properties" in definition:
            definition["additionalProperties"] = False
    schema["required"] = sorted({*schema.get("required", []), *added, "schema_version"})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://github.com/ome-harness/ome-harness/{file_name}"
    return schema


def results_schema() -> dict[str, Any]:
    # render_json adds the verdict and the counts: of every result, of the checks, of the scenarios.
    counts = {"type": "object", "required": [s.value for s in Status],
              "properties": {s.value: {"type": "integer", "minimum": 0} for s in Status},
              "additionalProperties": False}
    return closed_schema(Report, {
        **VERDICT_PROPERTIES, "counts": counts, "check_counts": counts, "scenario_counts": counts,
    }, SCHEMA_PATH.name)


def schema_text(schema: dict[str, Any] | None = None) -> str:
    return json.dumps(schema if schema is not None else results_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(SCHEMA_PATH)
