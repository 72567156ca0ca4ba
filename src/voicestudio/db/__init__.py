"""The studio's database: typed SQLAlchemy models, connection set-up and Alembic migrations."""

from voicestudio.db.engine import (
    DatabaseError,
    default_data_dir,
    default_database_url,
    make_engine,
    session_factory,
)
from voicestudio.db.migrate import upgrade_database
from voicestudio.db.models import Base, JobRow, OtoLineRow, ProjectRow, TakeRow, VoicebankRow, new_id
from voicestudio.db.types import UtcDateTime, utc_now

__all__ = [
    "Base",
    "DatabaseError",
    "JobRow",
    "OtoLineRow",
    "ProjectRow",
    "TakeRow",
    "UtcDateTime",
    "VoicebankRow",
    "default_data_dir",
    "default_database_url",
    "make_engine",
    "new_id",
    "session_factory",
    "upgrade_database",
    "utc_now",
]
