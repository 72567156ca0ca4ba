"""What a worker runs with, from the studio's settings: the server's worker children and `voicestudio
worker` hosts build it here, so both read the same VOICESTUDIO_* variables and .env file."""

from typing import Final

from voicestudio.jobs.runner import WorkerSettings
from voicestudio.settings import StudioSettings

STUDIO_JOB_MODULE: Final = "voicestudio.studio.jobs"  # the studio's job kinds (only workers import it)


def worker_settings(
    settings: StudioSettings,
    *,
    queues: tuple[str, ...] | None = None,
    job_modules: tuple[str, ...] = (STUDIO_JOB_MODULE,),
    heartbeat_interval_s: float | None = None,
    stale_after_s: float | None = None,
) -> WorkerSettings:
    """The worker's database, blobs, job kinds, pace and logging; `queues` None takes every queue. With
    Celery, long jobs run in chunks of `training_chunk_steps`. The heartbeat and stale times default to
    the settings' job_heartbeat_interval_s and job_stale_after_s."""
    celery = settings.job_backend == "celery"
    return WorkerSettings(
        database_url=settings.resolved_database_url,
        blob_location=settings.resolved_blob_location,
        job_modules=job_modules,
        poll_interval_s=settings.worker_poll_interval_s,
        heartbeat_interval_s=(
            heartbeat_interval_s if heartbeat_interval_s is not None else settings.job_heartbeat_interval_s
        ),
        stale_after_s=stale_after_s if stale_after_s is not None else settings.job_stale_after_s,
        log_format=settings.log_format,
        log_level=settings.log_level,
        chunk_steps=settings.training_chunk_steps if celery else None,
        queues=queues,
    )
