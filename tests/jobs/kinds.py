"""Job kinds for the tests; the worker children import this module, as they would a real one."""

import json
import os
import time
from pathlib import Path

from voicestudio.domain.jobs import JsonObject
from voicestudio.domain.progress import Progress
from voicestudio.errors import VoicestudioError
from voicestudio.jobs import JobContext, JobContinues, register
from voicestudio.jobs.registry import GPU_QUEUE

STATE_MAX_BYTES = 1000


class SilentTake(VoicestudioError):
    """Stands in for a user-facing failure such as a silent take."""


def echo(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Return the payload's value and where it ran."""
    return {"echo": payload["value"], "pid": os.getpid(), "attempt": ctx.attempt}


def wait_at_gate(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Report half-way, then wait (reporting, so cancel and stop reach it) until the test opens the gate."""
    gate = Path(payload["gate"])
    while not gate.exists():
        ctx.progress(Progress("waiting at the gate", 1, 2))
        time.sleep(0.005)
    ctx.progress(Progress("through the gate", 2, 2))
    return {"pid": os.getpid(), "attempt": ctx.attempt}


def count(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Report `steps` steps of progress, a little apart."""
    steps = int(payload["steps"])
    for step in range(1, steps + 1):
        time.sleep(0.02)
        ctx.progress(Progress("counting", step, steps))
    return {"counted": steps}


def fail_for_the_user(payload: JsonObject, ctx: JobContext) -> JsonObject:
    raise SilentTake("ka.wav is silent. Check the microphone and record it again.")


def crash(payload: JsonObject, ctx: JobContext) -> JsonObject:
    raise RuntimeError("internal detail the user must not see")


def append_own_id(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Leave one line per run in a shared log, so the test can count runs of each job."""
    with open(payload["log"], "a", encoding="utf-8") as log:
        log.write(f"{ctx.job_id} {os.getpid()}\n")
    return {}


def count_in_chunks(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Count to `steps`, `ctx.chunk_steps` at a time, keeping the count in a blob between runs like a
    training checkpoint. Each run logs the count it starts from; before step `hold_at` it waits (reporting)
    until the file `gate` exists, so a test can stop the worker there."""
    steps = int(payload["steps"])
    counted = json.loads(ctx.blobs.read(ctx.state_key))["counted"] if ctx.state_key else 0
    with open(payload["log"], "a", encoding="utf-8") as log:
        log.write(f"{counted}\n")
    end = steps if ctx.chunk_steps is None else min(steps, counted + ctx.chunk_steps)
    for step in range(counted + 1, end + 1):
        while step == payload.get("hold_at") and not Path(str(payload["gate"])).exists():
            ctx.progress(Progress(f"holding before step {step}", step - 1, steps))
            time.sleep(0.005)
        time.sleep(0.02)
        ctx.progress(Progress("counting", step, steps))
    if end < steps:
        state = ctx.blobs.put_stream([json.dumps({"counted": end}).encode()], STATE_MAX_BYTES)
        ctx.save_state(state.key)
        raise JobContinues
    return {"counted": steps}


def train_on_gpu(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Stands in for training: says it holds a GPU, reports once, names the worker that ran it."""
    ctx.set_device("cuda")
    ctx.progress(Progress("training", 1, 1))
    return {"worker_id": ctx.worker_id}


register("test.echo", echo)
register("test.gate", wait_at_gate)
register("test.count", count)
register("test.user_error", fail_for_the_user)
register("test.crash", crash)
register("test.append", append_own_id)
register("test.chunked", count_in_chunks)
register("test.train", train_on_gpu, queue=GPU_QUEUE)
