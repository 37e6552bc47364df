"""The stream-list steps fail where they should: an empty list cannot pass for a live stream."""

from __future__ import annotations

import pytest

from ome_harness.scenarios.outcome import Outcome, expect_listed, expect_stream_names


def test_an_empty_list_fails_the_scenario_that_published_a_stream() -> None:
    with pytest.raises(AssertionError, match="stream 'omh-1' is live but the application lists no streams"):
        expect_listed(Outcome(value=[]), "omh-1")


def test_a_list_without_the_published_stream_fails() -> None:
    with pytest.raises(AssertionError, match="lists \\['other'\\]"):
        expect_listed(Outcome(value=["other"]), "omh-1")
    expect_listed(Outcome(value=["other", "omh-1"]), "omh-1")


@pytest.mark.parametrize("names", [[""], ["a", "a"], [3], "a"])
def test_empty_repeated_or_non_text_names_fail(names: object) -> None:
    with pytest.raises(AssertionError):
        expect_stream_names(Outcome(value=names))


def test_no_live_stream_is_a_valid_list() -> None:
    assert expect_stream_names(Outcome(value=[])) == []
