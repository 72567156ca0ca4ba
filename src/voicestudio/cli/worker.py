"""`voicestudio worker`: run jobs for studio servers elsewhere, from the same VOICESTUDIO_* settings they use.

With job_backend celery it is a Celery worker on the broker's cpu and/or gpu queues; with the local backend
it polls the jobs table (a worker host for a studio started with worker_processes 0).
"""

import logging
import os
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from voicestudio.errors import VoicestudioError

if TYPE_CHECKING:  # the heavy imports wait until the command runs: every other command starts faster
    from voicestudio.jobs.runner import WorkerSettings
    from voicestudio.settings import StudioSettings

_LOG = logging.getLogger("voicestudio.jobs")


class WorkerOptionsError(VoicestudioError):
    """Worker options that cannot work together; the message says which to change."""


def worker(
    queues: Annotated[
        str, typer.Option("--queues", help="Queues to take jobs from: cpu, gpu (training) or cpu,gpu.")
    ] = "cpu,gpu",
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            min=1,
            help="Jobs at once; a gpu worker training on this machine runs one (one per GPU).",
        ),
    ] = 1,
    job_modules: Annotated[
        list[str] | None,
        typer.Option("--job-module", help="A module defining job kinds (repeatable; default: the studio's)."),
    ] = None,
    heartbeat_interval_s: Annotated[
        float | None,
        typer.Option(
            "--heartbeat-interval-s",
            min=0.01,
            help="How often a running job tells the database its worker is alive "
            "(default: the job_heartbeat_interval_s setting).",
        ),
    ] = None,
    stale_after_s: Annotated[
        float | None,
        typer.Option(
            "--stale-after-s",
            min=0.01,
            help="A running job silent this long lost its worker; another worker may take it over "
            "(default: the job_stale_after_s setting).",
        ),
    ] = None,
) -> None:
    """Run studio jobs on this machine (settings from VOICESTUDIO_* variables and .env, as for serve)."""
    from voicestudio.jobs.registry import GPU_QUEUE, QUEUES
    from voicestudio.logs import configure_logging
    from voicestudio.settings import StudioSettings
    from voicestudio.studio.workers import STUDIO_JOB_MODULE, worker_settings

    chosen = tuple(dict.fromkeys(name.strip() for name in queues.split(",") if name.strip()))
    unknown = [name for name in chosen if name not in QUEUES]
    if not chosen or unknown:
        raise WorkerOptionsError(f"--queues {queues!r}: use cpu, gpu or cpu,gpu.")
    settings = StudioSettings()
    if GPU_QUEUE in chosen and concurrency > 1 and settings.gpu_backend == "worker":
        raise WorkerOptionsError(
            f"A gpu worker that trains on this machine runs one job at a time, not {concurrency}: start "
            "one worker per GPU (CUDA_VISIBLE_DEVICES=0, 1, …), or a separate --queues cpu worker with "
            "--concurrency. With gpu_backend runpod or modal the chunks train on rented GPUs, and a gpu "
            "worker may wait for several at once."
        )
    configure_logging(settings)
    chosen_settings = worker_settings(
        settings,
        queues=chosen,
        job_modules=tuple(job_modules or (STUDIO_JOB_MODULE,)),
        heartbeat_interval_s=heartbeat_interval_s,
        stale_after_s=stale_after_s,
    )
    if settings.job_backend == "celery":
        _run_celery_worker(settings, chosen_settings, concurrency)
    else:
        _run_polling_worker(chosen_settings, concurrency)


def _run_celery_worker(
    settings: "StudioSettings", worker_settings: "WorkerSettings", concurrency: int
) -> None:
    """A Celery worker in this process: solo for one job at a time, else a prefork pool."""
    from celery.signals import setup_logging

    from voicestudio.jobs.celery_app import CeleryConfig, make_celery_app
    from voicestudio.jobs.registry import QUEUES
    from voicestudio.jobs.runner import load_job_modules

    load_job_modules(worker_settings.job_modules)  # a missing module is one message now, not one per job
    config = CeleryConfig(settings.broker_url, settings.celery_visibility_timeout_s, worker_settings)
    app = make_celery_app(config)

    def keep_our_logging(**_: object) -> None:
        """Celery leaves logging alone when someone handles this signal; ours is already set up."""

    setup_logging.connect(keep_our_logging, weak=False)
    queues = ",".join(worker_settings.queues or QUEUES)
    app.worker_main(
        [
            "worker",
            f"--queues={queues}",
            f"--concurrency={concurrency}",
            f"--pool={'solo' if concurrency == 1 else 'prefork'}",
            f"--hostname=voicestudio-{queues.replace(',', '-')}-{os.getpid()}@%h",
            f"--loglevel={settings.log_level.upper()}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _run_polling_worker(worker_settings: "WorkerSettings", concurrency: int) -> None:
    """Worker children that poll the jobs table, until SIGTERM or Ctrl-C."""
    from voicestudio.jobs.local import LocalWorker

    stop = threading.Event()

    def on_signal(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with LocalWorker(worker_settings, processes=concurrency):
        queues = ",".join(worker_settings.queues or ())
        _LOG.info("polling worker: %d process(es) for the %s queue(s)", concurrency, queues)
        stop.wait()
    _LOG.info("polling worker stopped")
