"""What a step did and what came back: steps pass these between each other via target_fixture."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ome_harness.ome.errors import OmeApiError, OmeError
from ome_harness.results import Report, Status


@dataclass
class Outcome:
    value: Any = None
    error: OmeError | None = None


def attempt(call: Callable[[], Any]) -> Outcome:
    """Run one API call; an OME error is an outcome to assert on, not a crash."""
    try:
        return Outcome(value=call())
    except OmeError as exc:
        return Outcome(error=exc)


def expect_success(outcome: Outcome) -> Any:
    assert outcome.error is None, f"the API call failed: {outcome.error}"
    return outcome.value


def expect_refusal(outcome: Outcome, status: int, message: str, *, exact: bool = True) -> None:
    error = outcome.error
    assert isinstance(error, OmeApiError), f"expected OME to refuse with {status}, got {error or outcome.value!r}"
    assert error.status == status, f"expected status {status}, got {error.status}: {error.message}"
    matches = error.message == message if exact else message in error.message
    assert matches, f"expected message {'' if exact else 'containing '}{message!r}, got {error.message!r}"


def expect_check(report: Report, check_id: str, *allowed: Status) -> None:
    result = next((r for r in report.results if r.id == check_id), None)
    assert result is not None, f"no check '{check_id}' in the diagnosis"
    assert result.status in allowed, f"check '{check_id}' is {result.status.value}: {result.summary}"


def expect_stream_names(outcome: Outcome) -> list[str]:
    """A stream list: distinct, non-empty names (an empty list is a valid answer when nothing is live)."""
    names = expect_success(outcome)
    assert isinstance(names, list), f"expected a list of stream names, got {names!r}"
    assert all(isinstance(n, str) and n for n in names), f"empty or non-text stream names: {names}"
    assert len(set(names)) == len(names), f"repeated stream names: {names}"
    return names


def expect_listed(outcome: Outcome, name: str) -> None:
    """The list names the stream this scenario made live (so an empty list fails)."""
    names = expect_stream_names(outcome)
    assert name in names, f"stream '{name}' is live but the application lists {names or 'no streams'}"
