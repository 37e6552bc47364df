"""Test-suite policy shared by tests/ and the scenarios: on CI a missing prerequisite is a failure."""

from __future__ import annotations

import os

import pytest


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, why: str) -> None:
    """Skip with one clear line on a laptop; fail on CI, where everything must be provisioned."""
    if condition:
        return
    if on_ci():
        pytest.fail(f"CI=true and a prerequisite is missing: {why}", pytrace=False)
    pytest.skip(why)
