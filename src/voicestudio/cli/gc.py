"""`voicestudio gc`: the full garbage collection a cron job runs, with the VOICESTUDIO_* settings of serve.

Deleting a project or an account frees its files at once; this sweep finds the rest: blobs whose upload
never got its row, the datasets and checkpoints of trainings that failed or were cancelled, and what
killed uploads left in the store's temporary area.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from voicestudio.storage.blobs import describe_size

if TYPE_CHECKING:  # the database and the studio load when the command runs: other commands start faster
    from voicestudio.studio.gc import GcReport

GRACE_S: Final = 3600.0  # studio.gc.DEFAULT_GRACE_S, not imported: the CLI starts light
console = Console()


@dataclass(frozen=True, slots=True)
class GcSweep:
    """One full sweep: what collection did, and how many stale temporaries went."""

    report: "GcReport"
    temporaries_removed: int


def sweep_everything(database_url: str, blob_location: str, grace_s: float) -> GcSweep:
    """Collect every unused blob and record of the studio at `database_url` / `blob_location`."""
    from voicestudio.db.engine import make_engine, session_factory
    from voicestudio.storage.factory import open_blob_store
    from voicestudio.studio.gc import collect_garbage

    engine = make_engine(database_url)
    try:
        blobs = open_blob_store(blob_location)
        with session_factory(engine)() as session:
            report = collect_garbage(session, blobs, grace_s=grace_s)
        removed = blobs.remove_stale_temporaries()  # older than an hour: no upload is that slow
    finally:
        engine.dispose()
    return GcSweep(report=report, temporaries_removed=removed)


def gc(
    grace_s: Annotated[
        float,
        typer.Option(
            "--grace-s",
            min=0.0,
            help="Spare blobs and records younger than this (an upload may be about to record its row).",
        ),
    ] = GRACE_S,
) -> None:
    """Delete the files no project, account or running job uses any more (settings as for serve)."""
    from voicestudio.logs import configure_logging
    from voicestudio.settings import StudioSettings

    settings = StudioSettings()
    configure_logging(settings)
    done = sweep_everything(settings.resolved_database_url, settings.resolved_blob_location, grace_s)
    console.print(
        f"garbage collection: {done.report.blobs_deleted} files deleted "
        f"({describe_size(done.report.bytes_freed)} freed), "
        f"{done.report.refs_dropped} ownership records dropped, "
        f"{done.temporaries_removed} stale temporaries removed",
        highlight=False,
    )
