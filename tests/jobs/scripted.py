"""A worker's run told step by step to a subscriber: what any event bus must deliver, in order."""

import asyncio
import threading
from collections.abc import Callable

from voicestudio.jobs import EventBus, Job, JobEvent, JobState, JobStore

# (state, fraction, stage) of each event a subscriber of the scripted run sees.
SCRIPTED_RUN_EVENTS = [
    (JobState.queued, 0.0, ""),
    (JobState.running, 0.0, ""),
    (JobState.running, 0.5, "placing"),
    (JobState.succeeded, 1.0, "placing"),
]


async def follow(bus: EventBus, job_id: str) -> list[JobEvent]:
    """Every event of the job until its final one."""
    return [event async for event in bus.subscribe(job_id)]


def watch_scripted_run(
    bus: EventBus, store: JobStore, job_id: str, claim: Callable[[], Job | None]
) -> list[JobEvent]:
    """The events a subscriber gets while a worker claims the job (`claim`), reports 0.5 "placing" and
    succeeds with {"lines": 12}; each step waits until the subscriber has seen the one before."""
    seen = [threading.Event() for _ in SCRIPTED_RUN_EVENTS]

    def worker() -> None:
        seen[0].wait()
        claimed = claim()
        assert claimed is not None
        bus.publish(job_id, JobEvent.from_job(claimed))
        seen[1].wait()
        bus.publish(job_id, JobEvent.from_job(store.record_progress(job_id, "worker-a", 0.5, "placing")))
        seen[2].wait()
        store.succeed(job_id, "worker-a", {"lines": 12})
        bus.publish(job_id, JobEvent.from_job(store.get(job_id)))

    async def watch() -> list[JobEvent]:
        events = []
        async for event in bus.subscribe(job_id):
            events.append(event)
            seen[len(events) - 1].set()
        return events

    thread = threading.Thread(target=worker)
    thread.start()
    events = asyncio.run(watch())
    thread.join()
    return events
