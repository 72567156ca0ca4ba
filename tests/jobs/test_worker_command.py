"""`voicestudio worker` with the local backend: a host that polls the studio's jobs table for its queues."""

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import jobs.kinds  # noqa: F401  (registers the test kinds)
from voicestudio.cli import worker as worker_command
from voicestudio.cli.worker import WorkerOptionsError
from voicestudio.db import session_factory as store_sessions
from voicestudio.jobs import JobContext, JobState, JobStore, WorkerSettings
from voicestudio.remote.contract import ChunkOutput
from voicestudio.settings import StudioSettings
from voicestudio.storage import open_blob_store
from voicestudio.studio.jobs import rented_gpu_runner
from voicestudio.studio.workers import worker_settings

from .conftest import migrated_sqlite
from .waiting import finished

TESTS_DIR = Path(__file__).resolve().parents[1]


def test_a_polling_worker_runs_only_the_kinds_of_its_queues_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path)
    store = JobStore.from_url(url)
    training = store.create("test.train", {})  # older, so it would be claimed first if the queue allowed
    echo = store.create("test.echo", {"value": "ka.wav"})
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
        "VOICESTUDIO_JOB_BACKEND": "local",
        "VOICESTUDIO_DATABASE_URL": url,
        "VOICESTUDIO_BLOB_LOCATION": str(tmp_path / "blobs"),
        "VOICESTUDIO_WORKER_POLL_INTERVAL_S": "0.05",
    }
    command = [sys.executable, "-m", "voicestudio", "worker", "--queues", "cpu", "--job-module", "jobs.kinds"]
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            done = finished(store, echo)
            assert (done.state, done.attempts) == (JobState.succeeded, 1)
            assert done.result is not None and done.result["pid"] != worker.pid  # a child of the worker
            assert store.get(training).state is JobState.queued  # gpu work waits for a gpu worker
        finally:
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(60)
    assert code == 0


def worker_env(monkeypatch: pytest.MonkeyPatch, folder: Path, dotenv: str) -> None:
    """Run in `folder` with these .env lines and no VOICESTUDIO_* variables of the test host."""
    for name in [name for name in os.environ if name.startswith("VOICESTUDIO_")]:
        monkeypatch.delenv(name)
    (folder / ".env").write_text(dotenv, encoding="utf-8")
    monkeypatch.chdir(folder)
    monkeypatch.setattr("voicestudio.logs.configure_logging", lambda _settings: None)


def test_a_worker_host_takes_its_pace_and_logging_from_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_env(
        monkeypatch,
        tmp_path,
        f"VOICESTUDIO_DATABASE_URL=sqlite:///{tmp_path / 'v.db'}\n"
        "VOICESTUDIO_JOB_HEARTBEAT_INTERVAL_S=0.7\nVOICESTUDIO_JOB_STALE_AFTER_S=9\n"
        "VOICESTUDIO_LOG_FORMAT=json\nVOICESTUDIO_LOG_LEVEL=DEBUG\n",
    )
    started: list[tuple[WorkerSettings, int]] = []
    monkeypatch.setattr(worker_command, "_run_polling_worker", lambda s, n: started.append((s, n)))
    worker_command.worker(queues="cpu", concurrency=3)
    [(chosen, processes)] = started
    assert processes == 3 and chosen.queues == ("cpu",)
    assert (chosen.heartbeat_interval_s, chosen.stale_after_s) == (0.7, 9.0)
    assert (chosen.log_format, chosen.log_level) == ("json", "DEBUG")
    assert chosen == worker_settings(StudioSettings(), queues=("cpu",))  # what the server's children get

    worker_command.worker(queues="cpu", heartbeat_interval_s=0.2, stale_after_s=4.0)  # options win
    assert (started[1][0].heartbeat_interval_s, started[1][0].stale_after_s) == (0.2, 4.0)


def test_a_gpu_worker_waits_on_several_rented_gpus_but_trains_one_job_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"VOICESTUDIO_DATABASE_URL=sqlite:///{tmp_path / 'v.db'}\n"
    worker_env(monkeypatch, tmp_path, database)
    started: list[int] = []
    monkeypatch.setattr(worker_command, "_run_polling_worker", lambda _s, n: started.append(n))
    with pytest.raises(WorkerOptionsError, match="runs one job at a time, not 2"):
        worker_command.worker(queues="gpu", concurrency=2)

    worker_env(
        monkeypatch,
        tmp_path,
        database + "VOICESTUDIO_GPU_BACKEND=runpod\n"
        "VOICESTUDIO_RUNPOD_ENDPOINT_URL=https://api.runpod.ai/v2/abc\n",
    )
    worker_command.worker(queues="gpu", concurrency=2)
    assert started == [2]


def test_a_rented_gpu_bills_each_chunk_s_gpu_time_not_the_worker_s_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = migrated_sqlite(tmp_path)
    worker_env(
        monkeypatch,
        tmp_path,
        f"VOICESTUDIO_DATABASE_URL={url}\nVOICESTUDIO_GPU_BACKEND=runpod\n"
        "VOICESTUDIO_RUNPOD_ENDPOINT_URL=https://api.runpod.ai/v2/abc\n",
    )
    store = JobStore.from_url(url)
    job_id = store.create("test.train", {}, owner="u1")
    heard: list[Callable[[ChunkOutput], None]] = []

    def fake_runner(_gpu: object, keep_alive: object, on_output: Callable[[ChunkOutput], None]) -> object:
        heard.append(on_output)
        return object()

    monkeypatch.setattr("voicestudio.remote.open_remote_gpu", lambda _settings: object())
    monkeypatch.setattr("voicestudio.remote.chunk_runner.remote_chunk_runner", fake_runner)
    ctx = JobContext(
        store.get(job_id), "w1", store, open_blob_store(str(tmp_path / "blobs")), store_sessions(url)
    )
    assert rented_gpu_runner(ctx) is not None
    [on_output] = heard
    for wall_s in (40.0, 35.5):
        on_output(
            ChunkOutput(
                step=100,
                done=False,
                wall_s=wall_s,
                device="cuda",
                checkpoint_bytes=1,
                checkpoint_sha256="0" * 64,
            )
        )
    store.record_usage(job_id, ctx.device, 600.0)  # the worker's whole run, mostly waiting

    job = store.get(job_id)
    assert (ctx.device, job.run_s, job.gpu_s) == ("cpu", 600.0, 75.5)
    assert job.owner == "u1"
    assert store.get(store.create("test.echo", {"value": "x"})).owner == "local"  # no owner given
