"""Connecting to the studio's database: SQLite in the data folder by default, PostgreSQL by URL."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from voicestudio.errors import VoicestudioError

SQLITE_BUSY_TIMEOUT_MS = 15_000  # a writer waits this long for another (the worker, the API) to finish
DATABASE_FILE_NAME = "voicestudio.db"


class DatabaseError(VoicestudioError):
    """The database cannot be reached or is not set up; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """Connections one process keeps to a server database (PostgreSQL); SQLite ignores them."""

    size: int = 5  # kept open
    max_overflow: int = 10  # opened beyond `size` under load, closed when returned
    recycle_s: float = 1800.0  # replaced after this long, before a proxy or server drops them


def default_data_dir() -> Path:
    """Where a one-machine studio keeps its database and files (`VOICESTUDIO_DATA_DIR` overrides)."""
    configured = os.environ.get("VOICESTUDIO_DATA_DIR")
    return Path(configured) if configured else Path.home() / ".local" / "share" / "voicestudio"


def default_database_url(data_dir: Path | None = None) -> str:
    """`sqlite:///<data_dir>/voicestudio.db`."""
    folder = data_dir if data_dir is not None else default_data_dir()
    return f"sqlite:///{folder.absolute() / DATABASE_FILE_NAME}"


def make_engine(url: str | None = None, pool: PoolSettings | None = None, **options: Any) -> Engine:
    """An engine for `url` (default: SQLite in the data folder); SQLite gets WAL, foreign keys, busy wait.

    `pool` sizes a server database's connection pool; None keeps SQLAlchemy's defaults.
    """
    text = url if url is not None else default_database_url()
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise DatabaseError(
            f"{text!r} is not a database URL. Use sqlite:///path/to/voicestudio.db "
            "or postgresql+psycopg://user@host/dbname."
        ) from None
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseError(
                f"Cannot create the folder {folder} for the database: {error.strerror}. "
                "Choose a data folder you can write to."
            ) from None
    if not is_sqlite:
        options.setdefault("pool_pre_ping", True)
        if pool is not None:
            options.setdefault("pool_size", pool.size)
            options.setdefault("max_overflow", pool.max_overflow)
            options.setdefault("pool_recycle", pool.recycle_s)
    try:
        engine = create_engine(parsed, **options)
    except (NoSuchModuleError, ModuleNotFoundError) as error:
        raise DatabaseError(
            f"The database driver for {parsed.drivername} is not installed ({error}). "
            "For PostgreSQL install psycopg: pip install 'psycopg[binary]', and use postgresql+psycopg://."
        ) from None
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(url_or_engine: str | Engine | None = None) -> sessionmaker[Session]:
    """Sessions on the database; rows stay readable after commit (no lazy reload surprises)."""
    engine = url_or_engine if isinstance(url_or_engine, Engine) else make_engine(url_or_engine)
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the API read while the worker writes; SQLite leaves foreign keys off unless asked."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
