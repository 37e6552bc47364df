"""One rule for stream names on the command line (`diagnose --playback`, `load --stream`)."""

from __future__ import annotations

import pytest

from ome_harness.stream_ref import StreamRef, StreamRefError, parse_stream_ref


@pytest.mark.parametrize(("text", "ref", "path"), [
    ("cam", StreamRef("cam"), "app/cam"),
    ("live/cam", StreamRef("cam", "live"), "live/cam"),
    ("app/omh-1", StreamRef("omh-1", "app"), "app/omh-1"),
])
def test_app_slash_stream_and_a_bare_name_in_the_configured_app(text: str, ref: StreamRef, path: str) -> None:
    assert parse_stream_ref(text, "--stream") == ref
    assert ref.path("app") == path


@pytest.mark.parametrize("text", ["", "/cam", "app/", "a/b/c", "a b", "cam?x=1", "app/cam#f", " cam"])
def test_anything_else_is_refused_naming_the_flag(text: str) -> None:
    with pytest.raises(StreamRefError, match="--playback .*give APP/STREAM"):
        parse_stream_ref(text, "--playback")
