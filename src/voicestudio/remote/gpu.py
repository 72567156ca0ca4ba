"""One training chunk on a rented GPU: submit it, poll it, and make sure no run is left burning money.

Each service (RunPod, Modal) only knows how to submit, read the status of and cancel one run; the loop
here is shared: poll every `poll_interval_s`, give up after `timeout_s`, cancel when the user cancels
or anything else stops the wait.
"""

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voicestudio.remote.contract import ChunkInput, ChunkOutput, RemoteState, RemoteStatus, RemoteUpdate
from voicestudio.remote.errors import (
    RemoteBadAnswer,
    RemoteGpuError,
    RemoteRunCancelled,
    RemoteRunFailed,
    RemoteTimedOut,
)

_LOG = logging.getLogger("voicestudio.remote")

RemoteProgressCallback = Callable[[RemoteUpdate], None]


def ignore_remote_progress(_: RemoteUpdate) -> None:
    """A callback for callers that do not follow the remote run."""


def never_cancel() -> bool:
    """A `should_cancel` for callers that cancel by raising from the progress callback instead."""
    return False


class RemoteService(Protocol):
    """One rented-GPU service: the three calls its HTTP API offers for a training chunk."""

    name: str

    def submit(self, inputs: ChunkInput, timeout_s: float) -> str:
        """Start the chunk; returns the service's id of the run."""
        ...

    def status(self, run_id: str) -> RemoteStatus:
        """Where the run is now."""
        ...

    def cancel(self, run_id: str) -> None:
        """Ask the service to stop the run (a finished run stays as it is)."""
        ...

    def describe_run(self, run_id: str) -> str:
        """The run as a person finds it in the service's console: 'RunPod job … on endpoint …'."""
        ...


@dataclass(frozen=True, slots=True)
class PollTiming:
    """How often to ask (s), how long to wait in all (s), and how many polls to wait for a cancel to land."""

    poll_interval_s: float = 5.0
    timeout_s: float = 3600.0
    cancel_polls: int = 5


DEFAULT_TIMING = PollTiming()


class RemoteGpu:
    """Runs training chunks on one rented-GPU service."""

    def __init__(self, service: RemoteService, timing: PollTiming = DEFAULT_TIMING) -> None:
        self.service = service
        self.timing = timing

    @property
    def name(self) -> str:
        return self.service.name

    def run_chunk(
        self,
        inputs: ChunkInput,
        on_progress: RemoteProgressCallback = ignore_remote_progress,
        should_cancel: Callable[[], bool] = never_cancel,
    ) -> ChunkOutput:
        """Run one chunk to its end and return what it reports; its checkpoint is then at the output URL.

        `on_progress` hears every poll; when it raises (a cancelled job) or `should_cancel()` turns True,
        the remote run is cancelled first. RemoteRunFailed, RemoteTimedOut, RemoteRunCancelled and
        RemoteUnreachable say what went wrong and what to do.
        """
        started = time.monotonic()
        run_id = self.service.submit(inputs, self.timing.timeout_s)
        where = self.service.describe_run(run_id)
        _LOG.info("submitted a training chunk up to step %d as %s", inputs.until_step, where)
        settled = False  # the run is finished, or this wait already cancelled it
        try:
            while True:
                status = self.service.status(run_id)
                elapsed_s = time.monotonic() - started
                if status.state.finished:
                    settled = True
                    return _outcome(status, where, self.timing.timeout_s)
                on_progress(
                    RemoteUpdate(
                        service=self.name,
                        run_id=run_id,
                        state=status.state,
                        elapsed_s=elapsed_s,
                        progress=status.progress,
                    )
                )
                if should_cancel():
                    settled = True
                    final = self._cancel(run_id)
                    raise RemoteRunCancelled(
                        f"The training chunk was cancelled as asked ({where} is {final.value})."
                    )
                if elapsed_s >= self.timing.timeout_s:
                    settled = True
                    final = self._cancel(run_id)
                    raise RemoteTimedOut(_timeout_message(where, status.state, final, self.timing.timeout_s))
                time.sleep(self.timing.poll_interval_s)
        except BaseException:
            if not settled:
                self._cancel_quietly(run_id, where)
            raise

    def _cancel(self, run_id: str) -> RemoteState:
        """Cancel the run and poll until the service shows it finished; returns the state last seen."""
        self.service.cancel(run_id)
        state = RemoteState.running
        for _ in range(self.timing.cancel_polls):
            state = self.service.status(run_id).state
            if state.finished:
                break
            time.sleep(self.timing.poll_interval_s)
        _LOG.info("%s cancelled; the service shows it %s", self.service.describe_run(run_id), state.value)
        return state

    def _cancel_quietly(self, run_id: str, where: str) -> None:
        """Cancel on the way out of an error: the first error is the one to report."""
        try:
            self._cancel(run_id)
        except RemoteGpuError as error:
            _LOG.warning("could not cancel %s: %s", where, error.message)


def _outcome(status: RemoteStatus, where: str, timeout_s: float) -> ChunkOutput:
    if status.state is RemoteState.completed:
        if status.output is None:
            raise RemoteBadAnswer(
                f"{where} completed without the chunk's result. Check that the endpoint runs the "
                "voicestudio handler (docs/rented-gpus.md), then train again."
            )
        return status.output
    if status.state is RemoteState.failed:
        raise RemoteRunFailed(
            f"The training chunk failed on the rented GPU ({where}): {readable_error(status.error)} "
            "Fix what it says and train again; the endpoint's logs have the details."
        )
    if status.state is RemoteState.cancelled:
        raise RemoteRunCancelled(
            f"{where} was cancelled on the service's side before it finished. Train again to continue "
            "from the last saved checkpoint."
        )
    raise RemoteTimedOut(
        f"{where} was stopped by the service's own time limit before it finished. Raise the endpoint's "
        f"execution timeout (the studio waits {timeout_s:.0f} s) or lower VOICESTUDIO_TRAINING_CHUNK_STEPS."
    )


def _timeout_message(where: str, last: RemoteState, final: RemoteState, timeout_s: float) -> str:
    head = (
        f"The training chunk did not finish within {timeout_s:g} s, so {where} was cancelled ({final.value})."
    )
    if last is RemoteState.queued:
        return (
            f"{head} It was still waiting for a worker: check that the endpoint may start workers "
            "(max workers above 0) and that GPUs of its type are available, then train again."
        )
    return (
        f"{head} Raise VOICESTUDIO_REMOTE_TIMEOUT_S or lower VOICESTUDIO_TRAINING_CHUNK_STEPS, then train "
        "again; it continues from the last saved checkpoint."
    )


def readable_error(error: str | None) -> str:
    """The endpoint's error as one sentence: RunPod wraps a handler's exception in JSON with its traceback."""
    if not error:
        return "it gave no reason."
    text = error.strip()
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        text = str(parsed.get("error_message") or parsed.get("error") or parsed.get("message") or text)
    first = text.splitlines()[0].strip() if text else ""
    return first if first.endswith((".", "!", "?")) else f"{first}."
