"""Databases for the db tests: a SQLite file per test, one PostgreSQL database per session."""

from collections.abc import Iterator

import pytest

from .postgres import postgres_database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database (skipped, with the reason, where there is none)."""
    yield from postgres_database()
