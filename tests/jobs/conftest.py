"""Job queues for the tests: a migrated SQLite file per test, and one PostgreSQL database per session."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from db.postgres import postgres_database
from services.redis_broker import redis_database
from voicestudio.db import make_engine, upgrade_database
from voicestudio.jobs import JobStore


def migrated_sqlite(folder: Path) -> str:
    url = f"sqlite:///{folder / 'voicestudio.db'}"
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database (skipped, with the reason, where there is none)."""
    for url in postgres_database():
        upgrade_database(url)
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database of this session's own (skipped, with the reason, where there is no server)."""
    yield from redis_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of each kind the studio supports."""
    if request.param == "sqlite":
        yield migrated_sqlite(tmp_path)
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM jobs"))
    engine.dispose()


@pytest.fixture
def store(database_url: str) -> JobStore:
    return JobStore.from_url(database_url)
