"""The one-machine worker: child processes of the server (spawned, so heavy work never starves the API)."""

import atexit
import importlib.util
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as ProcessEvent
from types import FrameType, TracebackType

from sqlalchemy import Engine

from voicestudio.db.engine import make_engine, session_factory
from voicestudio.jobs.errors import JobError
from voicestudio.jobs.runner import WorkerSettings, new_worker_id, work
from voicestudio.jobs.store import JobStore
from voicestudio.logs import configure_logging

RESTART_DELAY_S = 1.0  # a child that died this soon after starting is restarted after this pause

_LOG = logging.getLogger("voicestudio.jobs")


class LocalWorker:
    """Runs `processes` worker children that poll the database for jobs; a dead child's jobs are re-queued
    and the child replaced. The database is the source of truth, so restarting either side loses nothing.
    """

    def __init__(self, settings: WorkerSettings, *, processes: int = 1) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        self.settings = settings
        self.processes = processes
        self._spawn = multiprocessing.get_context("spawn")
        self._stop_children = self._spawn.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._children: dict[str, tuple[SpawnProcess, float]] = {}
        self._monitor: threading.Thread | None = None
        self._store: JobStore | None = None
        self._engine: Engine | None = None

    def start(self) -> None:
        """Start the children and the thread that watches them."""
        if self._monitor is not None:
            raise RuntimeError("this LocalWorker was already started")
        for name in self.settings.job_modules:
            if _find_module(name) is None:
                raise JobError(
                    f"The job module {name!r} does not exist. Check the worker's job_modules setting."
                )
        self._engine = make_engine(self.settings.database_url)
        self._store = JobStore(session_factory(self._engine))
        for _ in range(self.processes):
            self._start_child()
        self._monitor = threading.Thread(target=self._watch, name="voicestudio-worker-monitor", daemon=True)
        self._monitor.start()
        atexit.register(self.stop)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop gracefully: a running job goes back to the queue at its next progress report; a child still
        busy after `timeout_s` is killed and its job re-queued.
        """
        if self._monitor is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._stop_children.set()
        self._monitor.join()
        deadline = time.monotonic() + timeout_s
        with self._lock:
            children = dict(self._children)
            self._children.clear()
        for worker_id, (process, _started) in children.items():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                _LOG.warning("worker %s did not stop within %.0f s; killing it", worker_id, timeout_s)
                process.kill()
                process.join()
            process.close()
            self._requeue(worker_id)
        self._store = None
        if self._engine is not None:
            self._engine.dispose()
        atexit.unregister(self.stop)

    def worker_pids(self) -> dict[str, int]:
        """The process id of each live child, by worker id (the `worker_id` its jobs carry)."""
        with self._lock:
            return {
                wid: p.pid for wid, (p, _) in self._children.items() if p.pid is not None and p.is_alive()
            }

    def __enter__(self) -> "LocalWorker":
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _start_child(self) -> None:
        worker_id = new_worker_id(f"local-{os.getpid()}")
        process = self._spawn.Process(
            target=child_main,
            args=(self.settings, worker_id, self._stop_children, os.getpid()),
            name=f"voicestudio-worker-{worker_id.rsplit(':', 1)[-1]}",
        )
        process.start()
        with self._lock:
            self._children[worker_id] = (process, time.monotonic())

    def _watch(self) -> None:
        """Wait on the children; when one dies unasked, re-queue its job and start another in its place."""
        while not self._stopping.is_set():
            with self._lock:
                children = dict(self._children)
            multiprocessing.connection.wait([p.sentinel for p, _ in children.values()], timeout=0.25)
            for worker_id, (process, started) in children.items():
                if process.exitcode is None or self._stopping.is_set():
                    continue
                _LOG.warning(
                    "worker %s exited with code %s; its job goes back to the queue",
                    worker_id,
                    process.exitcode,
                )
                with self._lock:
                    self._children.pop(worker_id, None)
                process.join()
                process.close()
                self._requeue(worker_id)
                if time.monotonic() - started < RESTART_DELAY_S:
                    self._stopping.wait(RESTART_DELAY_S)
                if not self._stopping.is_set():
                    self._start_child()

    def _requeue(self, worker_id: str) -> None:
        if self._store is None:
            return
        try:
            self._store.requeue_interrupted(worker_id=worker_id)
        except Exception:
            _LOG.exception("jobs of worker %s could not be re-queued now; a later worker will", worker_id)


def child_main(settings: WorkerSettings, worker_id: str, stop: ProcessEvent, parent_pid: int) -> None:
    """A worker child: ignores Ctrl-C (the server stops it); stops on SIGTERM or once the server is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    terminate = threading.Event()

    def on_terminate(_signal: int, _frame: FrameType | None) -> None:
        terminate.set()

    signal.signal(signal.SIGTERM, on_terminate)
    configure_logging(settings)
    work(settings, worker_id, _ChildStop(stop, terminate, parent_pid))


class _ChildStop:
    """Set when the server asks, when SIGTERM arrives, or when the server process has gone."""

    def __init__(self, asked: ProcessEvent, terminate: threading.Event, parent_pid: int) -> None:
        self._asked = asked
        self._terminate = terminate
        self._parent_pid = parent_pid

    def is_set(self) -> bool:
        return self._asked.is_set() or self._terminate.is_set() or os.getppid() != self._parent_pid

    def wait(self, timeout: float | None = None) -> bool:
        self._asked.wait(timeout)
        return self.is_set()


def _find_module(name: str) -> object | None:
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None
