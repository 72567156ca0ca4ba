"""The studio's database: migrations build exactly the models' schema, on SQLite and on PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from voicestudio.db import (
    Base,
    DatabaseError,
    JobRow,
    OtoLineRow,
    ProjectRow,
    TakeRow,
    VoicebankRow,
    default_database_url,
    make_engine,
    session_factory,
    upgrade_database,
)

TABLES = {
    "projects",
    "takes",
    "oto_lines",
    "voicebanks",
    "jobs",
    "consents",
    "voice_models",
    "users",
    "api_tokens",
    "web_sessions",
    "blob_refs",
    "alembic_version",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of each kind the studio supports."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'studio' / 'voicestudio.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade_database(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    with engine.begin() as connection:  # leave the shared PostgreSQL database empty for the next test
        for table in (
            "voicebanks",
            "voice_models",
            "jobs",
            "oto_lines",
            "takes",
            "projects",
            "users",
            "blob_refs",
        ):
            connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def test_migrations_build_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
        assert differences == []
        assert set(inspect(connection).get_table_names()) == TABLES
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"


def test_upgrading_an_up_to_date_database_changes_nothing(database_url: str, engine: Engine) -> None:
    upgrade_database(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_a_project_keeps_its_prompt_sets_and_utc_creation_time(engine: Engine) -> None:
    sessions = session_factory(engine)
    tokyo_noon = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=9)))
    with sessions.begin() as session:
        project = ProjectRow(
            name="my voice", language="ja", prompt_sets=["ja-cv", "ja-vcv"], created_at=tokyo_noon
        )
        session.add(project)
    with sessions() as session:
        stored = session.scalars(select(ProjectRow)).one()
    assert stored.prompt_sets == ["ja-cv", "ja-vcv"]
    assert stored.created_at == datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert stored.created_at.tzinfo == UTC
    assert len(stored.id) == 36
    assert stored.owner == "local"  # a row written without an owner belongs to the local user


def test_a_retake_keeps_the_old_take_and_oto_lines_keep_utau_times(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        project = ProjectRow(name="v", language="ja", prompt_sets=["ja-cv"])
        session.add(project)
        session.flush()
        old = TakeRow(
            project_id=project.id,
            prompt_id="ka",
            blob_key="sha256/ab/cd/x",
            sample_rate_hz=48000,
            duration_ms=1250.0,
            verdict="warn",
            reasons=["noisy"],
            is_current=True,
        )
        new = TakeRow(
            project_id=project.id,
            prompt_id="ka",
            blob_key="sha256/ab/ce/y",
            sample_rate_hz=48000,
            duration_ms=1180.0,
            verdict="ok",
            quality={"snr_db": 42.5},
        )
        session.add_all([old, new])
        session.flush()
        old.is_current, old.superseded_by, new.is_current = False, new.id, True
        session.add(
            OtoLineRow(
                project_id=project.id,
                wav_name="ka.wav",
                alias="- か",
                offset_ms=120.5,
                consonant_ms=95.0,
                cutoff_ms=-400.0,
                preutterance_ms=60.0,
                overlap_ms=20.0,
                confidence=0.82,
            )
        )
    with sessions() as session:
        takes = session.scalars(select(TakeRow).order_by(TakeRow.duration_ms)).all()
        line = session.scalars(select(OtoLineRow)).one()
    assert [(t.duration_ms, t.is_current, t.reasons) for t in takes] == [
        (1180.0, True, []),
        (1250.0, False, ["noisy"]),
    ]
    assert takes[1].superseded_by == takes[0].id
    assert takes[0].quality == {"snr_db": 42.5}
    assert (line.offset_ms, line.cutoff_ms, line.confidence, line.note, line.edited) == (
        120.5,
        -400.0,
        0.82,
        "",
        False,
    )


def test_foreign_keys_are_enforced_and_deleting_a_project_keeps_its_jobs(engine: Engine) -> None:
    sessions = session_factory(engine)
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(
            TakeRow(
                project_id="no-such-project",
                prompt_id="ka",
                blob_key="k",
                sample_rate_hz=44100,
                duration_ms=1.0,
            )
        )
    with sessions.begin() as session:
        project = ProjectRow(name="v", language="en", prompt_sets=[], owner="u1")
        session.add(project)
        session.flush()
        job = JobRow(
            project_id=project.id, owner="u1", kind="train", state="succeeded", payload={}, gpu_s=600.0
        )
        session.add(job)
        session.flush()
        session.add(VoicebankRow(project_id=project.id, blob_key="sha256/ab/cd/z", job_id=job.id))
    with sessions.begin() as session:
        session.execute(ProjectRow.__table__.delete())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM voicebanks")).scalar_one() == 0
        kept = connection.execute(text("SELECT owner, project_id, gpu_s FROM jobs")).one()
    assert tuple(kept) == ("u1", None, 600.0)  # the GPU time it used still counts for its owner


def test_a_job_without_an_owner_belongs_to_the_local_user(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        session.add(JobRow(owner=None, kind="test.echo", state="queued", payload={}))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT owner FROM jobs")).scalar_one() == "local"


def test_upgrading_from_0003_keeps_every_row_and_gives_owners_to_all(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, revision="0003")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO projects (id, owner, name, language, prompt_sets, created_at) VALUES "
                    "('p1', NULL, 'v', 'ja', '[]', '2026-12-01 00:00:00')"
                )
            )
            for job_id, project_id in (("j1", "'p1'"), ("j2", "NULL")):
                connection.execute(
                    text(
                        "INSERT INTO jobs (id, owner, project_id, kind, state, payload, progress_fraction, "
                        "progress_stage, attempts, max_attempts, cancel_requested, version, created_at, "
                        f"updated_at, gpu_s) VALUES ('{job_id}', NULL, {project_id}, 'train', 'succeeded', "
                        "'{}', 1.0, '', 1, 3, 0, 1, '2026-12-01 00:00:00', '2026-12-01 00:00:00', 60.0)"
                    )
                )
            connection.execute(
                text(
                    "INSERT INTO voicebanks (id, project_id, blob_key, job_id, created_at) "
                    "VALUES ('b1', 'p1', 'k', 'j1', '2026-12-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO takes (id, project_id, prompt_id, blob_key, sample_rate_hz, duration_ms, "
                    "reasons, is_current, created_at) "
                    "VALUES ('t1', 'p1', 'ja-cv/ka', 'k', 48000, 900.0, '[]', 1, '2026-12-01 00:00:00')"
                )
            )
        upgrade_database(url)
        with engine.begin() as connection:
            assert connection.execute(text("SELECT job_id FROM voicebanks")).scalar_one() == "j1"
            assert connection.execute(text("SELECT project_id FROM takes")).scalar_one() == "p1"
            owners = connection.execute(text("SELECT id, owner FROM jobs ORDER BY id")).all()
            assert [tuple(row) for row in owners] == [("j1", "local"), ("j2", "local")]
            assert connection.execute(text("SELECT owner FROM projects")).scalar_one() == "local"
            connection.execute(text("DELETE FROM projects"))
            assert connection.execute(text("SELECT count(*) FROM jobs")).scalar_one() == 2
    finally:
        engine.dispose()


def test_sqlite_gets_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(default_database_url(tmp_path / "data"))
    with engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000}
    assert (tmp_path / "data" / "voicestudio.db").is_file()


def test_a_bad_database_url_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="is not a database URL"):
        make_engine("voicestudio.db")
    with pytest.raises(DatabaseError, match="driver"):
        make_engine("postgresql+nosuchdriver://localhost/x")
    with pytest.raises(DatabaseError, match="Cannot reach the database"):
        upgrade_database(f"sqlite:///{tmp_path}")  # a folder, not a database file
    (tmp_path / "file").write_text("")
    with pytest.raises(DatabaseError, match="Cannot create the folder"):
        make_engine(f"sqlite:///{tmp_path / 'file' / 'sub' / 'voicestudio.db'}")
