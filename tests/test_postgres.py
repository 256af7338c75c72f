"""The throw-away PostgreSQL cluster of tests/postgres.py: MLflow's login works, nothing survives it (not even
after a failing test), and a missing PostgreSQL is a skip on a laptop but a failure in CI."""

from __future__ import annotations

import glob
import socket
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from tests import postgres
from tsjnet.registry.serving import free_port

FOLDERS = "/tmp/tsjnet-postgres-*"


@pytest.mark.slow
def test_cluster_serves_mlflow_login_and_is_gone_after_a_failure() -> None:
    bin_dir = postgres.installed()
    before = set(glob.glob(FOLDERS))
    with pytest.raises(RuntimeError, match="the test failed"), postgres.cluster(bin_dir, free_port()) as uri:
        created = set(glob.glob(FOLDERS)) - before
        url = make_url(uri)
        assert (url.host, url.username, url.database) == ("127.0.0.1", postgres.MLFLOW, postgres.MLFLOW)
        with closing(psycopg2.connect(uri)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, pg_get_userbyid(datdba) = current_user FROM pg_roles, pg_database "
                           "WHERE rolname = current_user AND datname = current_database()")
            assert cursor.fetchone() == (False, True)  # a plain login that owns its database
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(url.set(password="wrong").render_as_string(hide_password=False)).close()
        raise RuntimeError("the test failed")
    assert len(created) == 1 and not Path(created.pop()).exists()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(uri, connect_timeout=5).close()


@pytest.mark.slow
def test_a_cluster_that_cannot_start_says_why_and_leaves_nothing() -> None:
    bin_dir = postgres.installed()
    before = set(glob.glob(FOLDERS))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(RuntimeError, match="(?s)pg_ctl .* start exited with 1.*Address already in use"), \
                postgres.cluster(bin_dir, taken.getsockname()[1]):
            pass
    assert set(glob.glob(FOLDERS)) == before


def test_missing_postgres_skips_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "binaries", lambda: None)
    monkeypatch.delenv(postgres.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install --no-install-recommends postgresql"):
        postgres.installed()


def test_missing_postgres_fails_where_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "binaries", lambda: None)
    monkeypatch.setenv(postgres.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{postgres.REQUIRE_ENV} is set"):
        postgres.installed()


def test_binaries_off_path_are_the_newest_debian_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for version in ("9", "15", "16", "common"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "initdb").touch()
    monkeypatch.setattr(postgres, "DEBIAN_VERSIONS", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert postgres.binaries() == tmp_path / "16" / "bin"
    monkeypatch.setattr(postgres, "DEBIAN_VERSIONS", tmp_path / "none")
    assert postgres.binaries() is None
