"""Bringing a database's schema up to date with Alembic, from code (the server runs it at start-up)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import OperationalError

from voicestudio.db.engine import DatabaseError, default_database_url, make_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """Alembic's configuration for the studio's migrations on `url`, without any alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str | None = None, revision: str = "head") -> None:
    """Apply every migration up to `revision`; running it again on an up-to-date database does nothing."""
    target = url if url is not None else default_database_url()
    config = alembic_config(target)
    engine = make_engine(target)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as error:
        raise DatabaseError(
            f"Cannot reach the database at {engine.url.render_as_string(hide_password=True)}: {error.orig}. "
            "Check that it is running and that the URL is right."
        ) from None
    finally:
        engine.dispose()


def write_migration(message: str, url: str) -> None:
    """For developers: write a revision file from the difference between the models and `url` (at head)."""
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message=message, autogenerate=True)
    finally:
        engine.dispose()
