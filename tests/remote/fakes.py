"""Local stand-ins for RunPod serverless and the studio's Modal web endpoint: real HTTP servers on loopback
that speak each service's documented contract and run the real handler (the real training chunk) in a
background thread, as a worker of the service would.

Knobs: `fail_next` answers the next N requests with 503; `stall` keeps runs waiting in the queue forever;
`hold_at_step` parks a running chunk after that step until it is cancelled (so a cancel lands mid-run);
`end_as` ends every run in that state without training (the service's own timeout or cancel).
"""

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from voicestudio.remote.contract import ChunkProgress, RemoteState
from voicestudio.remote.handler import ChunkStopped, handle_chunk

HOLD_LIMIT_S = 120.0  # a held chunk goes on by itself after this, so a broken test cannot hang forever


@dataclass
class FakeRun:
    """One submitted chunk as the fake service tracks it."""

    id: str
    payload: dict[str, Any]
    state: RemoteState = RemoteState.queued
    progress: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    steps_seen: list[int] = field(default_factory=list)
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    stopped_by_cancel: bool = False


@dataclass(frozen=True)
class Request:
    """One request the fake answered: method, path and the status it answered with."""

    method: str
    path: str
    status: int


class FakeService:
    """What both fakes share: the runs, the knobs, the worker threads and the request log."""

    def __init__(self, secret: str, work_root: Path) -> None:
        self.secret = secret
        self.work_root = work_root
        self.runs: dict[str, FakeRun] = {}
        self.requests: list[Request] = []
        self.fail_next = 0
        self.stall = False
        self.hold_at_step: int | None = None
        self.end_as: RemoteState | None = None
        self._lock = threading.Lock()
        self.url = ""

    # -- what the HTTP handlers call -------------------------------------------------------------------
    def take_failure(self) -> bool:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False

    def record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append(Request(method, path, status))

    def submit(self, payload: dict[str, Any], id_prefix: str) -> FakeRun:
        run = FakeRun(f"{id_prefix}{uuid.uuid4().hex[:12]}", payload)
        self.runs[run.id] = run
        if self.stall:
            return run  # no worker ever takes it
        threading.Thread(target=self._work, args=(run,), daemon=True).start()
        return run

    def cancel(self, run: FakeRun) -> None:
        if not run.state.finished:
            run.state = RemoteState.cancelled
        run.cancel_requested.set()
        if not run.started:
            run.finished.set()  # no worker took it: nothing to stop

    # -- the worker ------------------------------------------------------------------------------------
    def _work(self, run: FakeRun) -> None:
        if run.cancel_requested.is_set():
            return
        run.started = True
        if self.end_as is not None:
            run.state = self.end_as
            run.finished.set()
            return
        run.state = RemoteState.running

        def progress(update: ChunkProgress) -> None:
            run.steps_seen.append(update.step)
            run.progress = update.model_dump(mode="json")
            if self.hold_at_step is not None and update.step >= self.hold_at_step:
                run.cancel_requested.wait(HOLD_LIMIT_S)

        try:
            result = handle_chunk(
                run.payload,
                self.work_root,
                progress,
                run.cancel_requested.is_set,
                progress_interval_s=0.0,
            )
        except ChunkStopped:
            run.stopped_by_cancel = True
            run.finished.set()
            return
        if run.state is RemoteState.cancelled:
            run.finished.set()
            return
        if "error" in result:
            run.error = str(result["error"])
            run.state = RemoteState.failed
        else:
            run.output = result
            run.state = RemoteState.completed
        run.finished.set()

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path} {r.status}" for r in self.requests]


class _JsonHandler(BaseHTTPRequestHandler):
    """Reads a JSON body, writes a JSON answer, logs nothing to the test output."""

    service: FakeService

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the fake keeps its own request log."""

    def answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode("utf-8")
        self.service.record(self.command, self.path, status)  # before the client can read the answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def authorised(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.service.secret}"

    def route(self, routes: list[tuple[str, re.Pattern[str], Callable[..., None]]]) -> None:
        if self.service.take_failure():
            self.body()
            self.answer(503, {"error": "service unavailable"})
            return
        for method, pattern, action in routes:
            match = pattern.fullmatch(self.path)
            if match and method == self.command:
                action(*match.groups())
                return
        self.answer(404, {"error": f"no route {self.command} {self.path}"})


# -- RunPod serverless ---------------------------------------------------------------------------------

RUNPOD_STATES = {
    RemoteState.queued: "IN_QUEUE",
    RemoteState.running: "IN_PROGRESS",
    RemoteState.completed: "COMPLETED",
    RemoteState.failed: "FAILED",
    RemoteState.cancelled: "CANCELLED",
    RemoteState.timed_out: "TIMED_OUT",
}


class FakeRunPod(FakeService):
    """`/v2/{endpoint_id}/run`, `/status/{id}`, `/cancel/{id}`, with `Authorization: Bearer <API key>`."""

    endpoint_id = "vs-fake-endpoint"

    @property
    def endpoint_url(self) -> str:
        return f"{self.url}/v2/{self.endpoint_id}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        service = self
        prefix = f"/v2/{self.endpoint_id}"

        class Handler(_JsonHandler):
            def do_GET(self) -> None:
                self.dispatch()

            def do_POST(self) -> None:
                self.dispatch()

            def dispatch(self) -> None:
                if not self.authorised():
                    self.body()
                    self.answer(401, {"error": "Unauthorized"})
                    return
                self.route(
                    [
                        ("POST", re.compile(rf"{prefix}/run"), self.run),
                        ("GET", re.compile(rf"{prefix}/status/([\w-]+)"), self.status),
                        ("POST", re.compile(rf"{prefix}/cancel/([\w-]+)"), self.cancel),
                    ]
                )

            def run(self) -> None:
                body = self.body()
                if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
                    self.answer(400, {"error": "the request needs an input object"})
                    return
                run = service.submit(body["input"], id_prefix="")
                service.policies.append(body.get("policy"))
                self.answer(200, {"id": run.id, "status": "IN_QUEUE"})

            def status(self, run_id: str) -> None:
                run = service.runs.get(run_id)
                if run is None:
                    self.answer(404, {"error": "request does not exist"})
                    return
                body: dict[str, Any] = {"id": run.id, "status": RUNPOD_STATES[run.state], "delayTime": 12}
                if run.state is RemoteState.running and run.progress is not None:
                    body["output"] = run.progress
                if run.state is RemoteState.completed:
                    body["output"] = run.output
                    body["executionTime"] = 3400
                if run.state is RemoteState.failed:
                    body["error"] = run.error
                self.answer(200, body)

            def cancel(self, run_id: str) -> None:
                run = service.runs.get(run_id)
                if run is None:
                    self.answer(404, {"error": "request does not exist"})
                    return
                service.cancel(run)
                self.answer(200, {"id": run.id, "status": RUNPOD_STATES[run.state]})

        Handler.service = service
        return Handler

    def __init__(self, secret: str, work_root: Path) -> None:
        super().__init__(secret, work_root)
        self.policies: list[Any] = []


# -- Modal web endpoint --------------------------------------------------------------------------------


class FakeModal(FakeService):
    """The studio's Modal web endpoint: POST /chunks, GET /chunks/{call_id}, DELETE /chunks/{call_id}."""

    @property
    def endpoint_url(self) -> str:
        return self.url

    def handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(_JsonHandler):
            def do_GET(self) -> None:
                self.dispatch()

            def do_POST(self) -> None:
                self.dispatch()

            def do_DELETE(self) -> None:
                self.dispatch()

            def dispatch(self) -> None:
                if not self.authorised():
                    self.body()
                    self.answer(401, {"error": "missing or wrong bearer token"})
                    return
                self.route(
                    [
                        ("POST", re.compile(r"/chunks"), self.submit),
                        ("GET", re.compile(r"/chunks/(fc-\w+)"), self.status),
                        ("DELETE", re.compile(r"/chunks/(fc-\w+)"), self.cancel),
                    ]
                )

            def submit(self) -> None:
                body = self.body()
                if not isinstance(body, dict):
                    self.answer(422, {"error": "the body must be a training chunk's input"})
                    return
                run = service.submit(body, id_prefix="fc-")
                self.answer(202, {"call_id": run.id})

            def status(self, call_id: str) -> None:
                run = service.runs.get(call_id)
                if run is None:
                    self.answer(404, {"error": f"no call {call_id}"})
                    return
                self.answer(
                    200,
                    {
                        "call_id": run.id,
                        "status": run.state.value,
                        "progress": run.progress,
                        "output": run.output,
                        "error": run.error,
                    },
                )

            def cancel(self, call_id: str) -> None:
                run = service.runs.get(call_id)
                if run is None:
                    self.answer(404, {"error": f"no call {call_id}"})
                    return
                service.cancel(run)
                self.answer(200, {"call_id": run.id, "status": run.state.value})

        Handler.service = service
        return Handler


@contextmanager
def serving(service: FakeRunPod | FakeModal) -> Iterator[FakeRunPod | FakeModal]:
    """Serve the fake on a loopback port for the `with` block; its URL is `service.url`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), service.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield service
    finally:
        for run in service.runs.values():
            run.cancel_requested.set()  # release held chunks
        server.shutdown()
        server.server_close()
