"""docs/steps.md, generated from the step definitions themselves (never written twice).

Read statically (`ast`): importing a step module needs a running pytest. Run
`python -m ome_harness.scenarios.step_docs` to rewrite docs/steps.md; a test keeps it up to date.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

from ome_harness.resources import resource_dir

SHARED = ("conftest.py", "backend_steps.py", "media_steps.py")  # shared through steps/conftest.py
KEYWORDS = {"given": "Given", "when": "When", "then": "Then"}


@dataclass
class StepDoc:
    keyword: str
    phrase: str
    parsed: bool  # {placeholders} are parsed (parsers.parse / cfparse / re)
    doc: str


def _steps(path: Path) -> tuple[str, list[StepDoc]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name)
                    and decorator.func.id in KEYWORDS and decorator.args):
                continue
            first = decorator.args[0]
            parsed = isinstance(first, ast.Call) and bool(first.args)
            text = first.args[0] if parsed else first  # type: ignore[union-attr]
            if isinstance(text, ast.Constant) and isinstance(text.value, str):
                found.append(StepDoc(KEYWORDS[decorator.func.id], text.value, parsed,
                                     (ast.get_docstring(node) or "").split("\n")[0]))
    module_doc = (ast.get_docstring(tree) or "").split("\n")[0]
    return module_doc, found


def _section(title: str, path: Path) -> list[str]:
    module_doc, steps = _steps(path)
    lines = [f"### {title}", ""]
    if module_doc:
        lines += [module_doc, ""]
    for step in steps:
        note = f" — {step.doc}" if step.doc else ""
        lines.append(f"- **{step.keyword}** `{step.phrase}`{note}")
    return [*lines, ""]


def render() -> str:
    folder = resource_dir("steps")
    lines = ["# Step library", "",
             "Generated from the step definitions in `steps/` by `python -m ome_harness.scenarios.step_docs`;",
             "do not edit by hand. `{name}` is a placeholder (`{n:d}` a whole number); quotes are literal.",
             "Use `And`/`But` for any keyword.", "",
             "## Shared steps", "",
             "Usable in every bundled feature and in your own: `ome-harness run --features DIR`.", ""]
    for name in SHARED:
        lines += _section(f"steps/{name}", folder / name)
    lines += ["## Steps of one bundled feature", "",
              "Defined next to their feature's `scenarios(...)` call, so only that feature sees them.", ""]
    for path in sorted(folder.glob("test_*.py")):
        if _steps(path)[1]:
            lines += _section(f"steps/{path.name}", path)
    return "\n".join(lines).rstrip() + "\n"


def docs_path() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "steps.md"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else docs_path()
    target.write_text(render(), encoding="utf-8")
    print(target)
