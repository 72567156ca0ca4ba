"""`voicestudio worker` with the local backend: a host that polls the studio's jobs table for its queues."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import jobs.kinds  # noqa: F401  (registers the test kinds)
from voicestudio.jobs import JobState, JobStore

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
