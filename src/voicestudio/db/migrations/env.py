"""Alembic's entry point: migrate the connection that `upgrade_database` hands over to the models."""

from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from voicestudio.db.engine import make_engine
from voicestudio.db.models import Base
from voicestudio.db.types import UtcDateTime


def render_item(type_: str, obj: object, _context: AutogenContext) -> str | Literal[False]:
    """Write plain SQLAlchemy types into revision files, so old migrations never import changed app code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_on(connection: Connection) -> None:
    """Run the migrations in one transaction; batch mode lets SQLite alter tables in later revisions."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Use the caller's connection when there is one, else connect to the configured URL."""
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        run_on(given)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("voicestudio migrations run online only; call voicestudio.db.upgrade_database(url)")
run()
