"""A throw-away PostgreSQL cluster, so the tracking-server test runs MLflow on the database a team would use.

Debian's `postgresql` package puts initdb and pg_ctl in /usr/lib/postgresql/<major>/bin, off PATH. The cluster
lives in its own temporary folder (its unix socket too), listens on 127.0.0.1 only, skips fsync (it is deleted
afterwards anyway) and is stopped and removed even when the test fails. PostgreSQL refuses to run as root, so
under root it runs as the ``postgres`` system user, which the package creates.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

#: Set (CI does, in .ci/run) to make a missing PostgreSQL a test failure instead of a skip.
REQUIRE_ENV = "TSJNET_REQUIRE_POSTGRES"
INSTALL_HINT = "install Debian's postgresql package: sudo apt-get install --no-install-recommends postgresql"
#: Where Debian's packages install each major version's binaries.
DEBIAN_VERSIONS = Path("/usr/lib/postgresql")
#: The role and database MLflow gets: a password login that owns its database, not a superuser.
MLFLOW = "mlflow"
SUPERUSER = "postgres"
#: The system user that runs the server when the tests run as root.
SERVER_OWNER = "postgres"
START_TIMEOUT_S = 60
SETTINGS = {"listen_addresses": "127.0.0.1", "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def binaries() -> Path | None:
    """The folder with initdb and pg_ctl: initdb's on PATH, else the newest /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = [path for path in DEBIAN_VERSIONS.glob("*/bin/initdb") if path.parts[-3].isdigit()]
    return max(versions, key=lambda path: int(path.parts[-3])).parent if versions else None


def installed() -> Path:
    """`binaries()`, or, where PostgreSQL is missing, a skip saying how to install it (a failure under REQUIRE_ENV)."""
    found = binaries()
    if found is None:
        message = f"PostgreSQL tests need initdb and pg_ctl (on PATH or in /usr/lib/postgresql/*/bin): {INSTALL_HINT}"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{message} ({REQUIRE_ENV} is set: .ci/run installs it before the tests)", pytrace=False)
        pytest.skip(message)
    return found


def _run_as_owner(*paths: Path) -> list[str]:
    """The command prefix that runs PostgreSQL's tools as a non-root user, after handing `paths` to that user."""
    if os.geteuid() != 0:
        return []
    try:
        owner = pwd.getpwnam(SERVER_OWNER)
    except KeyError:
        raise RuntimeError(f"PostgreSQL refuses to run as root and there is no {SERVER_OWNER!r} user to run it as: "
                           f"{INSTALL_HINT} (it creates the user)") from None
    for path in paths:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    return ["runuser", "-u", SERVER_OWNER, "--"]


def _run(command: list[str], root: Path, log: Path | None = None) -> None:
    """Run one of PostgreSQL's tools; a failure raises with its output and the server's `log`."""
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=START_TIMEOUT_S * 2)
    if result.returncode != 0:
        server_log = log.read_text() if log is not None and log.is_file() else ""
        raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}{result.stderr}"
                           f"{server_log}")


@contextmanager
def cluster(bin_dir: Path, port: int) -> Iterator[str]:
    """Run a fresh cluster on 127.0.0.1:`port`; yield the SQLAlchemy URI of MLflow's database (password inside)."""
    root = Path(tempfile.mkdtemp(prefix="tsjnet-postgres-"))
    data, log = root / "data", root / "server.log"
    superuser_password, password = secrets.token_hex(16), secrets.token_hex(16)
    try:
        password_file = root / "superuser-password"
        password_file.write_text(superuser_password)
        prefix = _run_as_owner(root, password_file)
        _run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={password_file}",
              "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"], root)
        password_file.unlink()
        options = " ".join(f"-c {key}={value}" for key, value in
                           {**SETTINGS, "port": port, "unix_socket_directories": f"'{root}'"}.items())
        pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", str(START_TIMEOUT_S)]
        try:
            _run([*pg_ctl, "-l", str(log), "-o", options, "start"], root, log)
            _create_mlflow_database(port, superuser_password, password)
            yield f"postgresql://{MLFLOW}:{password}@127.0.0.1:{port}/{MLFLOW}"
        finally:
            subprocess.run([*pg_ctl, "-m", "immediate", "stop"], cwd=root, capture_output=True, check=False,
                           timeout=START_TIMEOUT_S * 2)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _create_mlflow_database(port: int, superuser_password: str, password: str) -> None:
    """Role `MLFLOW` with `password` owning database `MLFLOW`: MLflow creates and migrates its tables in it."""
    connection = psycopg2.connect(host="127.0.0.1", port=port, user=SUPERUSER, password=superuser_password,
                                  dbname="postgres")
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(MLFLOW)), (password,))
            cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(MLFLOW),
                                                                        sql.Identifier(MLFLOW)))
    finally:
        connection.close()
