"""A throw-away PostgreSQL database for one test session, or a skip that says what is missing."""

import importlib.util
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from voicestudio.db import make_engine

SERVER_URL = os.environ.get(
    "VOICESTUDIO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_database() -> Iterator[str]:
    """Create a fresh database on the test server, yield its URL, drop it afterwards."""
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("PostgreSQL tests need the psycopg driver: pip install 'psycopg[binary]'")
    admin = make_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    name = f"voicestudio_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"no PostgreSQL server at {SERVER_URL} (set VOICESTUDIO_TEST_POSTGRES_URL): {error.orig}")
    try:
        yield make_engine(SERVER_URL).url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
