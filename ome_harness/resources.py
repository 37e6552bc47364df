"""Files that live at the repository's top level and ship inside the wheel (features, steps, templates)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPO_NAMES = {"features": "features", "steps": "steps", "templates": "reports/templates"}


def resource_dir(name: str) -> Path:
    """The bundled copy in an installed wheel, else the source checkout's (editable installs, tests)."""
    bundled = _PACKAGE / "_bundled" / name
    if bundled.is_dir():
        return bundled
    source = _PACKAGE.parent / _REPO_NAMES[name]
    if source.is_dir():
        return source
    raise FileNotFoundError(f"ome-harness is missing its {name} folder (looked in {bundled} and {source})")
