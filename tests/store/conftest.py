"""Every store test runs twice: on a SQLite file and on a real, throwaway PostgreSQL 15 server.

The server is started once per test session from the binaries under
``/usr/lib/postgresql/15/bin`` (``$ALLOCATOR_PG_BIN`` to change it): ``initdb`` and ``pg_ctl``
refuse to run as root, so as root they run as the ``postgres`` system user through ``runuser``
(as any other user, as that user). The data directory and the socket are in a fresh folder under
``/tmp`` owned by that user; the server listens on 127.0.0.1 only, on a free port, with trust
authentication and no fsync (it is thrown away). Each test gets a database of its own.

With ``$CI`` set, a server that cannot be started fails the PostgreSQL tests (CI must run
them); elsewhere they are skipped only when the binaries are missing.

The tiny rounds the tests publish are in ``store_helpers.py``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PG_BIN = Path(os.environ.get("ALLOCATOR_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
BACKENDS = ("sqlite", "postgresql")


# ---------------------------------------------------------------------------------------------
# A throwaway PostgreSQL server
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgServer:
    """A running throwaway server: its folder (data and socket) and port."""

    base: Path
    port: int

    def url(self, database: str) -> str:
        """SQLAlchemy URL of `database` on this server (psycopg 3, over TCP)."""
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """Create a fresh, uniquely named database; return its URL."""
        import psycopg

        name = f"store_{uuid.uuid4().hex[:12]}"
        dsn = f"host=127.0.0.1 port={self.port} user={PG_USER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_server_user(args: list[str]) -> list[str]:
    """Run `args` as the postgres system user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *args]
    return args


def _why_no_server() -> tuple[str, bool] | None:
    """Why a server cannot be started here, and whether that is only missing binaries."""
    missing = [name for name in ("initdb", "pg_ctl") if not (PG_BIN / name).is_file()]
    if missing:
        return (
            f"PostgreSQL 15 binaries not found: {', '.join(str(PG_BIN / m) for m in missing)}"
            " (install postgresql-15, or set ALLOCATOR_PG_BIN)",
            True,
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return (f"running as root but there is no '{PG_USER}' system user for initdb", False)
        if shutil.which("runuser") is None:
            return ("running as root but runuser is missing (initdb refuses to run as root)", False)
    return None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


def _start_server(base: Path) -> PgServer:
    data = base / "data"
    _run(
        _as_server_user(
            [
                *(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER),
                *("-E", "UTF8", "--locale=C", "--no-sync"),
            ]
        ),
        "initdb",
    )
    last_error: Exception | None = None
    for _attempt in range(3):  # the free port can be taken between finding and binding it
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
            " -c full_page_writes=off -c synchronous_commit=off -c max_connections=60"
        )
        try:
            _run(
                _as_server_user(
                    [
                        *(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log")),
                        *("-w", "-t", "60", "-o", options, "start"),
                    ]
                ),
                "pg_ctl start",
            )
            return PgServer(base, port)
        except RuntimeError as exc:
            last_error = exc
    log_file = base / "server.log"
    log = log_file.read_text(errors="replace") if log_file.exists() else ""
    raise RuntimeError(f"{last_error}\n{log[-2000:]}")


def _stop_command(base: Path) -> list[str]:
    return _as_server_user(
        [str(PG_BIN / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "-w", "stop"]
    )


def _stop_server(base: Path) -> None:
    subprocess.run(_stop_command(base), capture_output=True, timeout=60, check=False)


def _watchdog(base: Path) -> subprocess.Popen[bytes]:
    """A small shell that stops the server and removes its folder if this test process dies
    without tearing down (killed, or its output pipe closed)."""
    stop = " ".join(shlex.quote(a) for a in _stop_command(base))
    script = (
        f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done;"
        f" {stop} >/dev/null 2>&1; rm -rf {shlex.quote(str(base))}"
    )
    return subprocess.Popen(
        ["sh", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL 15 server for the whole session, stopped at its end."""
    in_ci = bool(os.environ.get("CI"))
    problem = _why_no_server()
    if problem is not None:
        message, only_missing_binaries = problem
        if in_ci or not only_missing_binaries:
            pytest.fail(f"cannot start the PostgreSQL test server: {message}", pytrace=False)
        pytest.skip(message)
    # Under /tmp, not pytest's tmp_path: its parents are private to root, and the socket path
    # must stay short.
    short_tmp = "/tmp" if Path("/tmp").is_dir() else None
    base = Path(tempfile.mkdtemp(prefix="allocator-pg-", dir=short_tmp))
    if os.geteuid() == 0:
        server_user = pwd.getpwnam(PG_USER)
        os.chown(base, server_user.pw_uid, server_user.pw_gid)
    base.chmod(0o700)
    try:
        server = _start_server(base)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        _stop_server(base)
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"cannot start the PostgreSQL test server: {exc}", pytrace=False)
    watchdog = _watchdog(base)
    try:
        yield server
    finally:
        watchdog.kill()
        watchdog.wait(timeout=10)
        _stop_server(base)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'allocator.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()


@pytest.fixture(autouse=True)
def _no_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their store explicitly; a coordinator's $ALLOCATOR_DB is never touched."""
    monkeypatch.delenv("ALLOCATOR_DB", raising=False)
