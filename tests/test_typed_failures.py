"""Failures are types: the client raises one class per failure, checks carry the exception, findings
branch on its class (never on a class name or a message), and every check result says what it expected."""

from __future__ import annotations

import socket

import pytest

from ome_harness.checks import registry
from ome_harness.checks.context import CheckContext
from ome_harness.checks.findings import derive
from ome_harness.checks.host_probe import RuntimeHints
from ome_harness.checks.registry import Check, all_checks
from ome_harness.checks.runner import _run_one
from ome_harness.ome import errors
from ome_harness.ome.client import OmeClient
from ome_harness.results import CheckResult, Status
from ome_harness.target.base import OmeTarget

URL = "https://127.0.0.1:9"


def _api_failed(failure: errors.OmeError, /, **facts: object) -> list[CheckResult]:
    return [CheckResult(id="api", title="OME API Connectivity", status=Status.ERROR, summary="failed",
                        facts={"error": str(failure), **facts}, failure=failure)]


def _finding_keys(results: list[CheckResult]) -> list[str]:
    findings, _ = derive(results, RuntimeHints(), URL)
    return [f.key for f in findings]


def test_every_bad_answer_has_its_own_class_under_omebadresponse():
    leaves = [errors.NotHttpAnswer, errors.PlainHttpAnswer, errors.TlsPortAnswer, errors.TlsHandshakeFailed,
              errors.HtmlAnswer,
              errors.NotJsonAnswer, errors.AnswerTooLarge, errors.UnexpectedShape]
    assert all(issubclass(leaf, errors.OmeBadResponse) for leaf in leaves)
    assert len({leaf.kind for leaf in leaves}) == len(leaves)
    # The tree drawn in the module docstring names every class of the module.
    classes = [n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, errors.OmeError)]
    assert all(name in (errors.__doc__ or "") for name in classes)


@pytest.mark.parametrize(("failure", "key"), [
    (errors.OmeTimeout(url=URL, phase="read", seconds=5), "api_timeout"),
    (errors.PlainHttpAnswer(url=URL, status=0, detail="plain"), "api_plain_http"),
    (errors.TlsPortAnswer(url=URL, status=0, detail="tls"), "api_tls_port"),
    (errors.OmeNotFound(url=URL, status=404, message="nope"), "api_url_not_root"),
    (errors.OmeApiError(url=URL, status=500, message="boom"), "ome_server_error"),
    (errors.HtmlAnswer(url=URL, status=200, detail="html"), "api_bad_response_html"),
])
def test_findings_follow_the_failure_type_whatever_the_labels_say(failure, key):
    # The labels in facts are report data: a renamed class or a reworded message changes no finding.
    results = _api_failed(failure, failure="SomethingRenamed", kind="renamed", status=500)
    assert key in _finding_keys(results)


def test_an_unreachable_api_is_not_reported_as_a_misbehaving_one():
    failure = errors.OmeUnreachable(url=URL, host="127.0.0.1", port=9, errno=111, reason="refused")
    assert not any(k.startswith(("api_", "ome_server")) for k in _finding_keys(_api_failed(failure)))


def test_the_exception_itself_is_never_serialised():
    result = _api_failed(errors.OmeTimeout(url=URL, phase="read", seconds=5))[0]
    assert "failure" not in result.model_dump(mode="json")
    assert result.failure is not None


def test_the_client_keeps_the_cause_of_a_failure():
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with OmeClient(f"http://127.0.0.1:{port}", "t", connect_timeout=1, read_timeout=1) as client, \
                pytest.raises(errors.OmeUnreachable) as caught:
            client.version()
    assert caught.value.__cause__ is not None


def test_every_registered_check_says_what_it_expects():
    assert all(c.expected for c in all_checks())


def test_the_runner_writes_the_expectation_error_and_timing_into_each_result():
    def broken(ctx: CheckContext) -> CheckResult:
        raise ValueError("bug")

    check = Check(id="x", title="X", run=broken, expected="nothing breaks")
    ctx = CheckContext(target=OmeTarget(kind="url", api_url="http://127.0.0.1:9", token=None))
    result = _run_one(check, ctx)
    assert (result.expected, result.error, result.status) == ("nothing breaks", "ValueError: bug",
                                                              Status.ERROR)
    assert isinstance(result.failure, ValueError) and result.duration_ms >= 0
    assert registry.CHECKS  # the registry was filled by all_checks() above
