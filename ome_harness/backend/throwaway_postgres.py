"""A throwaway PostgreSQL cluster from the installed server binaries, for tests and local runs.

PostgreSQL refuses to run as root, so as root the cluster runs as the unprivileged `postgres`
user (created by Debian's `postgresql` package) in a temporary directory it owns. It listens on
127.0.0.1 only, on a free port, with password (SCRAM) authentication, so URLs carry a secret
that the suite's redaction has to keep out of its output.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql


class PostgresUnavailable(Exception):
    """No cluster could be started here; the message says what is missing."""


def server_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl (PATH first, then Debian's versioned layout)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresCluster:
    """A running cluster: `url(db)` gives a SQLAlchemy URL, `create_database(name)` a fresh database."""

    port: int
    password: str = field(repr=False)
    workdir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", password=self.password,
                             dbname="postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


@contextlib.contextmanager
def throwaway_postgres(startup_timeout: int = 30) -> Iterator[PostgresCluster]:
    """initdb + pg_ctl start into a temporary directory; stopped and deleted on exit."""
    bindir = server_binaries()
    if bindir is None:
        raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                                  "install Debian's 'postgresql' package")
    run_as: dict = {}
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root and no 'postgres' user exists to run the cluster "
                                      "(PostgreSQL refuses root): install the 'postgresql' package") from None
        run_as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    # As root the cluster's user must reach the folder: a TMPDIR under /root would not do, /tmp does.
    workdir = Path(tempfile.mkdtemp(prefix="omh-pg-", dir="/tmp" if owner is not None else None))
    password = secrets.token_urlsafe(16)
    data, sockets, log = workdir / "data", workdir / "sock", workdir / "server.log"
    sockets.mkdir()
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if owner is not None:
        for path in (workdir, sockets, pwfile):
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def run(*args: str) -> None:
        try:
            subprocess.run(
                args, cwd=workdir, check=True, capture_output=True, text=True, timeout=120, **run_as
            )
        except subprocess.CalledProcessError as exc:
            tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {' / '.join(tail)}") from None
        except subprocess.TimeoutExpired:
            raise PostgresUnavailable(f"{Path(args[0]).name} did not finish within 120s") from None

    port = free_port()
    started = False
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--no-sync")
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w",
            "-t", str(startup_timeout), "start")
        started = True
        yield PostgresCluster(port=port, password=password, workdir=workdir)
    finally:
        if started:
            with contextlib.suppress(PostgresUnavailable):
                run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(workdir, ignore_errors=True)
