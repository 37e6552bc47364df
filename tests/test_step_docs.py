"""docs/steps.md is generated from the step definitions and kept up to date."""

from __future__ import annotations

import re

from ome_harness.resources import resource_dir
from ome_harness.scenarios.step_docs import docs_path, render


def test_docs_steps_md_is_up_to_date() -> None:
    assert docs_path().read_text() == render(), "run: python -m ome_harness.scenarios.step_docs"


def test_every_step_definition_is_documented() -> None:
    decorators = sum(len(re.findall(r"^@(given|when|then)\(", p.read_text(), re.M))
                     for p in resource_dir("steps").glob("*.py"))
    assert decorators >= 90 and render().count("\n- **") == decorators
