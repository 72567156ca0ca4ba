"""The studio page follows a job: its current state first, then each change, until it ends."""

import asyncio
import threading
from pathlib import Path

from voicestudio.jobs import JobEvent, JobState, JobStore, PollingEventBus

from .conftest import migrated_sqlite


async def follow(bus: PollingEventBus, job_id: str) -> list[JobEvent]:
    return [event async for event in bus.subscribe(job_id)]


def test_a_subscriber_sees_each_change_in_order_and_the_end(tmp_path: Path) -> None:
    store = JobStore.from_url(migrated_sqlite(tmp_path))
    bus = PollingEventBus(store, interval_s=10.0)  # long: every change below is announced by publish
    job_id = store.create("oto.generate", {})
    steps_seen = [threading.Event() for _ in range(4)]

    def worker() -> None:
        """Each step waits until the subscriber has seen the one before, then publishes its own."""
        steps_seen[0].wait()
        job = store.claim("worker-a")
        assert job is not None
        bus.publish(job_id, JobEvent.from_job(store.get(job_id)))
        steps_seen[1].wait()
        bus.publish(job_id, JobEvent.from_job(store.record_progress(job_id, "worker-a", 0.5, "placing")))
        steps_seen[2].wait()
        store.succeed(job_id, "worker-a", {"lines": 12})
        bus.publish(job_id, JobEvent.from_job(store.get(job_id)))

    async def watch() -> list[JobEvent]:
        events = []
        async for event in bus.subscribe(job_id):
            events.append(event)
            steps_seen[len(events) - 1].set()
        return events

    thread = threading.Thread(target=worker)
    thread.start()
    events = asyncio.run(watch())
    thread.join()
    assert [(e.state, e.progress_fraction, e.progress_stage) for e in events] == [
        (JobState.queued, 0.0, ""),
        (JobState.running, 0.0, ""),
        (JobState.running, 0.5, "placing"),
        (JobState.succeeded, 1.0, "placing"),
    ]
    assert [e.version for e in events] == sorted({e.version for e in events})
    assert events[-1].is_final and events[-1].result == {"lines": 12}


def test_a_late_subscriber_gets_the_final_state_at_once(tmp_path: Path) -> None:
    store = JobStore.from_url(migrated_sqlite(tmp_path))
    job_id = store.create("oto.generate", {})
    store.cancel(job_id)
    events = asyncio.run(follow(PollingEventBus(store), job_id))
    assert [(e.state, e.is_final) for e in events] == [(JobState.cancelled, True)]
