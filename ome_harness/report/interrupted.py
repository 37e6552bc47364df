"""The report of a diagnosis a signal stopped: no verdict, only what stopped it and what was undone.

(The checks' partial results are not kept: a check cut short mid-request would read as a failure.)
"""

from __future__ import annotations

from ome_harness.redaction import describe_secret
from ome_harness.results import Report, TargetInfo

INTERRUPTED_DETAIL = ("The diagnosis stopped before its checks finished, so nothing is concluded about the "
                      "target; a container the harness launched for it was removed with its rendered "
                      "configuration. Run the command again.")


def interrupted_connection_report(signal_name: str, *, kind: str, api_url: str | None,
                                  token: str | None) -> Report:
    """A report that says only: interrupted by `signal_name`, nothing concluded."""
    info = TargetInfo(kind=kind, api_url=api_url or "-", key=describe_secret(token))  # type: ignore[arg-type]
    report = Report(kind="connection", title="OvenMediaEngine Connection Test Report", target=info,
                    domain=None, headline="no checks finished")
    report.mark_interrupted(signal_name, INTERRUPTED_DETAIL)
    return report
