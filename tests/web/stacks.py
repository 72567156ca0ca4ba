"""The two stacks the API tests run on, and what both need to look the same to a test.

- embedded: a SQLite file and a blob folder under the studio's data folder, local worker children;
- scale: PostgreSQL, SeaweedFS S3 and Celery on Redis, with a real `voicestudio worker --queues cpu`.

The scale services start once per session, the first time a module asks for them: one PostgreSQL
database, one S3 bucket, a Redis database of their own and one Celery worker that every scale-stack
studio shares. They are emptied (tables and bucket prefix) when the next test module first asks for
them, so each module sees a blank studio on both stacks.
"""

import contextlib
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, Final

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from db.postgres import postgres_database
from services.processes import die_with_parent, stop
from services.redis_broker import redis_database
from services.seaweed import SeaweedServer, s3_client
from voicestudio.db import Base, make_engine, upgrade_database
from voicestudio.storage.blobs import BlobStore
from voicestudio.storage.local import TEMPORARY_DIR, LocalBlobStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette asks for httpx2 instead of httpx; both work
    from starlette.testclient import TestClient

EMBEDDED: Final = "embedded"
SCALE: Final = "scale"
STACKS: Final = (EMBEDDED, SCALE)
WORKER_STOP_TIMEOUT_S: Final = 30.0
NETWORK_TIMEOUT_S: Final = 30.0
MAX_REDIRECTS: Final = 5
RESET_LOCK_TIMEOUT: Final = "20s"  # an emptying that waits on a stuck transaction fails instead of hanging


class StudioClient(TestClient):
    """A TestClient that follows a redirect to another host (a presigned S3 URL) over the network, as a
    browser does; redirects within the app stay in process."""

    __test__ = False

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app, raise_server_exceptions=False)
        self._network = httpx.Client(timeout=NETWORK_TIMEOUT_S)

    def request(self, method: str, url: Any, **options: Any) -> httpx.Response:
        follow = options.pop("follow_redirects", httpx.USE_CLIENT_DEFAULT)
        if follow is httpx.USE_CLIENT_DEFAULT:
            follow = self.follow_redirects
        response: httpx.Response = super().request(method, url, follow_redirects=False, **options)
        for _ in range(MAX_REDIRECTS):
            if not (follow and response.is_redirect and response.next_request is not None):
                break
            target = response.next_request  # built as httpx builds it: no cookie or token for another host
            if target.url.host == self.base_url.host:
                response = self.send(target, follow_redirects=False)
            else:
                response = self._network.send(target)
        return response

    def close(self) -> None:
        self._network.close()
        super().close()


@dataclass
class ScaleServices:
    """The scale stack's shared services: a PostgreSQL database, an S3 prefix, a Redis database and the
    Celery worker process that serves them all."""

    folder: Path
    database_url: str
    broker_url: str
    seaweed: SeaweedServer
    bucket: str
    prefix: str
    worker: subprocess.Popen[bytes] | None = None
    emptied_for: str | None = None  # the test module the tables and the prefix were last emptied for

    @property
    def blob_location(self) -> str:
        return self.seaweed.location(self.bucket, prefix=self.prefix)

    @property
    def worker_pid(self) -> int:
        assert self.worker is not None, "the scale stack's Celery worker is not started"
        return self.worker.pid

    @property
    def worker_log(self) -> Path:
        return self.folder / "worker.log"

    def settings(self) -> dict[str, Any]:
        """The StudioSettings fields that put a studio on these services (its jobs go to the worker)."""
        return {
            "job_backend": "celery",
            "database_url": self.database_url,
            "blob_location": self.blob_location,
            "broker_url": self.broker_url,
            "worker_processes": 0,
        }

    def environment(self) -> dict[str, str]:
        """The same settings as VOICESTUDIO_* variables, for the worker process."""
        return {
            **os.environ,
            "VOICESTUDIO_JOB_BACKEND": "celery",
            "VOICESTUDIO_DATA_DIR": str(self.folder / "data"),
            "VOICESTUDIO_DATABASE_URL": self.database_url,
            "VOICESTUDIO_BLOB_LOCATION": self.blob_location,
            "VOICESTUDIO_BROKER_URL": self.broker_url,
        }

    def start_worker(self) -> None:
        """`voicestudio worker --queues cpu`, logging to worker.log; it takes seconds to import, so it
        starts before the first studio and takes the jobs that wait in Redis once it is up."""
        with self.worker_log.open("ab") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "voicestudio", "worker", "--queues", "cpu"],
                env=self.environment(),
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # a killed test run leaves no worker taking jobs
            )

    def stop_worker(self) -> None:
        """A warm shutdown (SIGTERM), as a deployment stops it; killed if it does not end in time."""
        worker, self.worker = self.worker, None
        if worker is not None:
            stop([worker], WORKER_STOP_TIMEOUT_S)

    def reset(self) -> None:
        """Empty every table and the blob prefix, so the next studio starts blank (the worker is idle
        between modules, holding no transaction)."""
        assert self.worker is not None and self.worker.poll() is None, (
            f"the Celery worker of the scale stack has exited:\n{self.worker_log_tail()}"
        )
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        engine = make_engine(self.database_url)
        try:
            with engine.begin() as connection:
                connection.execute(text(f"SET LOCAL lock_timeout = '{RESET_LOCK_TIMEOUT}'"))
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            engine.dispose()
        client = s3_client(self.seaweed)
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def temporaries(self) -> list[str]:
        """Objects under the prefix's incoming/ area and multipart uploads not finished or aborted."""
        client = s3_client(self.seaweed)
        incoming = f"{self.prefix}incoming/"
        objects = client.list_objects_v2(Bucket=self.bucket, Prefix=incoming).get("Contents", [])
        uploads = client.list_multipart_uploads(Bucket=self.bucket, Prefix=incoming).get("Uploads", [])
        return sorted([str(item["Key"]) for item in objects] + [str(item["Key"]) for item in uploads])

    def worker_log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.worker_log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@pytest.fixture(scope="session")
def scale_services(
    tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedServer
) -> Iterator[ScaleServices]:
    """The scale stack's services for the whole session (skipped, with the reason, where one is missing)."""
    folder = tmp_path_factory.mktemp("scale-stack")
    bucket = f"voicestudio-web-{uuid.uuid4().hex[:12]}"
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(contextlib.contextmanager(postgres_database)())
        broker_url = stack.enter_context(contextlib.contextmanager(redis_database)())
        upgrade_database(database_url)
        services = ScaleServices(folder, database_url, broker_url, seaweed, bucket, prefix="studio/")
        s3_client(seaweed).create_bucket(Bucket=bucket)
        services.start_worker()
        stack.callback(services.stop_worker)
        yield services


def services_for(request: pytest.FixtureRequest, stack: str) -> ScaleServices | None:
    """None for the embedded stack; for scale, the session's services (started on first use), emptied
    when a new test module first asks (studios of one module share them, as they would a server)."""
    if stack == EMBEDDED:
        return None
    assert stack == SCALE, f"unknown stack {stack!r}; use one of {STACKS}"
    services: ScaleServices = request.getfixturevalue("scale_services")
    module = request.module.__name__
    if services.emptied_for != module:
        services.reset()
        services.emptied_for = module
    return services


def stack_settings(scale: ScaleServices | None) -> dict[str, Any]:
    """The StudioSettings fields of a studio on `scale` (none for the embedded stack's defaults)."""
    return {} if scale is None else scale.settings()


@pytest.fixture(scope="module", params=STACKS, name="stack")
def each_stack(request: pytest.FixtureRequest) -> str:
    """Both stacks, for a module whose studio should run on each (import it into the module)."""
    stack: str = request.param
    return stack


def stored_blobs(blobs: BlobStore) -> list[PurePath]:
    """Every stored blob as a path whose name is its sha256: the file on disk, or the object's key."""
    if isinstance(blobs, LocalBlobStore):
        return sorted(path for path in (blobs.root / "sha256").rglob("*") if path.is_file())
    return sorted(PurePosixPath(ref.key) for ref in blobs.list_keys())


def local_temporaries(blobs: LocalBlobStore) -> list[str]:
    """Uploads in flight (or left behind) in a blob folder."""
    return sorted(str(path) for path in (blobs.root / TEMPORARY_DIR).glob("*"))
