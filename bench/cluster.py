"""The studio as a scaled-out deployment runs it, on this one machine, for bench/load.py: a throw-away
PostgreSQL database, a Redis database of its own, one blob store shared by every process (a folder, or a
SeaweedFS S3 bucket), one `voicestudio serve` with accounts on and the Celery backend, and N Celery workers
(`voicestudio worker --queues cpu`). Everything it starts is stopped, and the database dropped, on the way
out, even after Ctrl-C or an error.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from celery import Celery

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from db.postgres import postgres_database
from services.processes import stop
from services.redis_broker import redis_database
from services.seaweed import start_seaweed
from web.server import served_studio

PLAN_NAME: Final = "load"
PLANS: Final = {  # enough for every bench user: one project of takes and a voicebank, no training
    PLAN_NAME: {
        "title": "Load bench",
        "max_projects": 5,
        "storage_bytes": 1_000_000_000,
        "neural_training": False,
        "gpu_minutes_month": 0,
    }
}
WORKER_READY_GIVE_UP_S: Final = 120.0  # only so that a worker that never starts ends the bench
WORKER_STOP_WAIT_S: Final = 30.0
PING_TIMEOUT_S: Final = 1.0


class ServiceMissing(SystemExit):
    """PostgreSQL, Redis or SeaweedFS is not there; the message says which and how to point at it."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """The running studio: its URL, the folder with every process's log, and the worker count."""

    url: str
    folder: Path
    workers: int
    blob_location: str

    def log_tails(self, lines: int = 30) -> str:
        """The last lines of every log, for a bench that failed."""
        parts = []
        for log in sorted(self.folder.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name} ---\n" + "\n".join(text))
        return "\n".join(parts)


@contextmanager
def _service(generator: Iterator[str]) -> Iterator[str]:
    """A tests/services helper (a generator that skips when its server is missing) as a context."""
    try:
        value = next(generator)
    except pytest.skip.Exception as skipped:
        raise ServiceMissing(str(skipped)) from None
    try:
        yield value
    finally:
        with contextlib.suppress(StopIteration):
            next(generator)


@contextmanager
def _s3_location(folder: Path) -> Iterator[str]:
    """A bucket on a SeaweedFS server of its own (stopped after)."""
    try:
        server = start_seaweed(folder / "seaweedfs")
    except FileNotFoundError as error:
        raise ServiceMissing(f"--s3 needs SeaweedFS: {error}") from None
    try:
        yield server.location("voicestudio-load")
    finally:
        server.stop()


@contextmanager
def _celery_workers(count: int, folder: Path, broker_url: str) -> Iterator[None]:
    """`count` cpu workers, each its own process group, answering Celery's ping before this returns."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for number in range(count):
            with (folder / f"worker-{number}.log").open("ab") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "voicestudio", "worker", "--queues", "cpu"],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=folder,
                        start_new_session=True,  # Ctrl-C reaches the bench only; it stops them in order
                    )
                )
        _wait_for_workers(processes, broker_url, folder)
        yield
    finally:
        stop(processes, WORKER_STOP_WAIT_S)  # warm shutdown: a running job goes back to the queue


def _wait_for_workers(processes: list[subprocess.Popen[bytes]], broker_url: str, folder: Path) -> None:
    app = Celery(broker=broker_url)
    give_up = time.monotonic() + WORKER_READY_GIVE_UP_S
    try:
        while len(app.control.ping(timeout=PING_TIMEOUT_S)) < len(processes):
            dead = [p for p in processes if p.poll() is not None]
            if dead or time.monotonic() > give_up:
                logs = "\n".join(log.read_text(errors="replace") for log in sorted(folder.glob("worker-*")))
                raise SystemExit(f"the Celery workers did not all start:\n{logs}")
    finally:
        app.close()


@contextmanager
def running_cluster(folder: Path, workers: int, s3: bool) -> Iterator[Cluster]:
    """Start every service and process under `folder`; stop them all and drop the database after."""
    with ExitStack() as stack:
        database_url = stack.enter_context(_service(postgres_database()))
        broker_url = stack.enter_context(_service(redis_database()))
        blobs = stack.enter_context(_s3_location(folder)) if s3 else str(folder / "blobs")
        plans_file = folder / "plans.json"
        plans_file.write_text(json.dumps(PLANS), encoding="utf-8")
        settings: dict[str, Any] = {
            "DATABASE_URL": database_url,
            "BLOB_LOCATION": blobs,
            "JOB_BACKEND": "celery",
            "BROKER_URL": broker_url,
            "ACCOUNTS_ENABLED": "true",
            "PLANS_FILE": str(plans_file),
            "DEFAULT_PLAN": PLAN_NAME,
            "DATA_DIR": str(folder / "data"),
        }
        # The server and the workers inherit these, as hosts that share one settings file would.
        os.environ.update({f"VOICESTUDIO_{name}": str(value) for name, value in settings.items()})
        server = stack.enter_context(served_studio(folder / "data", folder / "serve.log"))
        stack.enter_context(_celery_workers(workers, folder, broker_url))
        yield Cluster(server.url, folder, workers, blobs.split("?", 1)[0])
