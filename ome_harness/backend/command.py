"""`ome-harness backend`: run the reference backend in the foreground."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import typer

from ome_harness.config import ConfigError

DEFAULT_DB = "sqlite:///ome-harness-backend.db"


def register(app: typer.Typer) -> None:
    app.command("backend")(backend)


def backend(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8080).")] = None,
    token: Annotated[str | None, typer.Option(help="Bearer token clients must send (backend.token).")] = None,
    ome_url: Annotated[str | None, typer.Option("--ome-url", help="OME API URL (default: api.url).")] = None,
    ome_token: Annotated[
        str | None, typer.Option("--ome-token", help="OME AccessToken (default: api.token).")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help=f"SQLAlchemy database URL (default {DEFAULT_DB}).")
    ] = None,
    fault: Annotated[list[str] | None, typer.Option(hidden=True, help="Inject a fault (tests).")] = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="YAML config (default: ./harness.yaml).")
    ] = None,
) -> None:
    """Run the reference stream backend (start/stop/SCTE-35/listing, audited) against an OME."""
    from pathlib import Path

    from ome_harness.backend.server import BackendServer
    from ome_harness.backend.settings import BackendSettings
    from ome_harness.cli_support import configure, fail
    from ome_harness.dbcheck.checker import describe_db_url
    from ome_harness.redaction import mask_userinfo

    cfg = configure(Path(config) if config else None,
                    {"backend": {"host": host, "port": port, "token": token, "ome_url": ome_url,
                                 "ome_token": ome_token, "db_url": db}})
    section = cfg.backend
    if section.token is None or not section.token.get_secret_value():
        fail("the backend needs a bearer token: pass --token or set backend.token (OMH_BACKEND__TOKEN)")
    ome_url = section.ome_url or cfg.api.url
    if not _is_http_url(ome_url):
        # Caught here, not at the first request: the backend's answers must stay in its JSON error contract.
        fail(f"the OME API URL {mask_userinfo(ome_url)!r} is not an http(s) URL with a host "
             "(e.g. http://localhost:8081)")
    ome_secret = section.ome_token or cfg.api.token
    db_url = section.db_url.get_secret_value() if section.db_url else DEFAULT_DB
    try:
        settings = BackendSettings(token=section.token.get_secret_value(), db_url=db_url,
                                   ome_url=ome_url,
                                   ome_token=ome_secret.get_secret_value() if ome_secret else None,
                                   vhost=cfg.api.vhost, app=cfg.api.app, faults=frozenset(fault or ()))
        server = BackendServer(settings, host=section.host, port=section.port)
    except (ConfigError, ValueError) as exc:
        fail(str(exc))
    except OSError as exc:  # the port is taken before the database is opened: no file is left behind
        fail(f"cannot listen on {section.host}:{section.port}: {exc.strerror or exc}")
    except Exception as exc:  # e.g. the database refused the connection while creating the schema
        fail(f"cannot open the database {describe_db_url(db_url)}: {type(exc).__name__}: "
             f"{str(exc).splitlines()[0] if str(exc) else ''}")
    # server.url: the port really bound (--port 0 picks a free one), printed only once it is taken.
    typer.echo(f"reference backend on {server.url} (OME API {settings.ome_url}, "
               f"database {describe_db_url(db_url)}); OpenAPI at /openapi.json", err=True)
    server.serve_forever()


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)  # raises on an unclosed IPv6 bracket
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)
