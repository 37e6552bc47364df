"""Read-only procedures: the REST API answers the harness uses, and its refusals (samples 00-25, 70)."""

from __future__ import annotations

from urllib.parse import quote

from ome_harness.recording.session import Session

UNKNOWN = "nosuchstream"  # the names the hand-made captures used, so both ask the same question


def _seg(value: str) -> str:
    return quote(value, safe="")


def read_api(s: Session) -> None:
    """version, vhosts, the vhost, apps, the app's config, its streams, stats at server/vhost/app level."""
    vhost, app = _seg(s.target.vhost), _seg(s.target.app)
    s.api("version", "GET", "/v1/version")
    s.api("vhosts", "GET", "/v1/vhosts")
    s.api("vhost", "GET", f"/v1/vhosts/{vhost}")
    s.api("apps", "GET", f"/v1/vhosts/{vhost}/apps")
    s.api("app", "GET", f"/v1/vhosts/{vhost}/apps/{app}")
    s.api("streams", "GET", f"/v1/vhosts/{vhost}/apps/{app}/streams")
    s.api("stats-server", "GET", "/v1/stats/current")
    s.api("stats-vhost", "GET", f"/v1/stats/current/vhosts/{vhost}")
    s.api("stats-app", "GET", f"/v1/stats/current/vhosts/{vhost}/apps/{app}")


def api_errors(s: Session) -> None:
    """Refusals: wrong/no token, the token in the query (OME wants a header), unknown names, HEAD, OPTIONS."""
    vhost, app = _seg(s.target.vhost), _seg(s.target.app)
    s.api("wrong-token", "GET", "/v1/vhosts", credential="wrong")
    s.api("no-token", "GET", "/v1/vhosts", credential="none")
    # The token in the URL, as some clients send it (sample 20): the recording keeps the request without it.
    s.api("query-token", "GET", f"/v1/vhosts?access_token={_seg(s.target.token or '')}", credential="none")
    s.api("unknown-vhost", "GET", "/v1/vhosts/nosuchvhost")
    s.api("unknown-app", "GET", f"/v1/vhosts/{vhost}/apps/nosuchapp")
    s.api("unknown-stream", "GET", f"/v1/vhosts/{vhost}/apps/{app}/streams/{UNKNOWN}")
    s.api("stats-unknown-stream", "GET", f"/v1/stats/current/vhosts/{vhost}/apps/{app}/streams/{UNKNOWN}")
    s.api("unknown-path", "GET", "/v1/nosuchthing")
    s.api("root-path", "GET", "/")
    # OME's internal application name (#vhost#app) is not a name the API takes (sample 25).
    s.api("internal-app-name", "GET", f"/v1/vhosts/{vhost}/apps/{_seg(f'#{s.target.vhost}#{s.target.app}')}")
    s.api("head-vhosts", "HEAD", "/v1/vhosts")
    s.api("options-vhosts", "OPTIONS", "/v1/vhosts", credential="none")
