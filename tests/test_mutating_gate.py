"""The read-only promise: a target the harness did not launch is changed only with --allow-mutating.

The target is an emulator this test owns, attached as `--target url` (so, to the harness, a user's
OME); it records what was done to it (a DELETE marks the stream deleted), so each side of the gate
is judged by its effect on the target, not by the skip message alone.
"""

from __future__ import annotations

import pytest
from ome_samples import TOKEN

from ome_harness.emulator import EmulatorServer

pytest_plugins = ["pytester"]

MUTATING_TEST = '''
import pytest

@pytest.mark.mutating
def test_deletes_a_stream(ome_client, ome_target):
    ome_client.delete_stream(ome_target.vhost, ome_target.app, "keep-me")
'''


def run_gated(pytester: pytest.Pytester, emulator: EmulatorServer, *extra: str) -> pytest.RunResult:
    emulator.state.add_stream("keep-me")
    pytester.makepyfile(test_gate=MUTATING_TEST)
    return pytester.runpytest_subprocess(
        "-p", "ome_harness.scenarios.plugin", "-p", "no:cacheprovider", "-rs",
        "--omh-target", "url", "--omh-api-url", emulator.url, "--omh-token", TOKEN, *extra)


def was_deleted(emulator: EmulatorServer) -> bool:
    stream = emulator.state.stream("default", "app", "keep-me")
    return stream is None or stream.deleted_at is not None


def test_mutating_scenario_leaves_a_users_target_alone_without_the_flag(
        pytester: pytest.Pytester, emulator: EmulatorServer) -> None:
    result = run_gated(pytester, emulator)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*mutating scenario: the target was not launched by the harness*"])
    assert not was_deleted(emulator), "a @mutating test changed a target the harness did not launch"


def test_mutating_scenario_changes_a_users_target_with_allow_mutating(
        pytester: pytest.Pytester, emulator: EmulatorServer) -> None:
    result = run_gated(pytester, emulator, "--omh-allow-mutating")
    result.assert_outcomes(passed=1)
    assert was_deleted(emulator), "--allow-mutating did not let the @mutating test act on the target"
