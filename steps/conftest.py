"""Steps shared by every feature: the target, the diagnosis, and what an answer should look like.

pytest-bdd shares steps through conftest.py: the backend and media step libraries (and the backend
fixtures) are imported here, so every module under steps/ sees them and nothing outside does.
pytest-bdd defines each step as a fixture in the module namespace it was declared in, hence `*`.
"""

from backend_steps import *  # noqa: F403
from media_steps import *  # noqa: F403
from pytest_bdd import given, parsers, then, when

from ome_harness.checks.diagnosis import diagnose
from ome_harness.results import Status
from ome_harness.scenarios.backend_fixtures import *  # noqa: F403
from ome_harness.scenarios.outcome import expect_check, expect_refusal, expect_success


@given("an OME target", target_fixture="target")
def an_ome_target(ome_target):
    return ome_target


@when("the connection is diagnosed", target_fixture="report")
def the_connection_is_diagnosed(target):
    return diagnose(target, probe_host=False)


@then(parsers.parse('the "{check_id}" check passes'))
def the_check_passes(report, check_id):
    expect_check(report, check_id, Status.OK)


@then(parsers.parse('the "{check_id}" check does not fail'))
def the_check_does_not_fail(report, check_id):
    expect_check(report, check_id, Status.OK, Status.WARN)


@then("the call succeeds")
def the_call_succeeds(outcome):
    expect_success(outcome)


@then(parsers.parse('the API refuses with status {status:d} and message "{message}"'))
def the_api_refuses(outcome, status, message):
    expect_refusal(outcome, status, message)


@then(parsers.parse('the API refuses with status {status:d} and message containing "{message}"'))
def the_api_refuses_with_words(outcome, status, message):
    expect_refusal(outcome, status, message, exact=False)
