"""A watcher on any API server follows a job over Redis pub/sub; it sees the end even if messages are lost."""

import asyncio
from pathlib import Path

from voicestudio.jobs import JobEvent, JobState, JobStore
from voicestudio.jobs.redis_events import RedisEventBus

from .conftest import migrated_sqlite
from .scripted import SCRIPTED_RUN_EVENTS, follow, watch_scripted_run

NO_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_each_published_change_reaches_the_subscriber_in_order(tmp_path: Path, redis_url: str) -> None:
    store = JobStore.from_url(migrated_sqlite(tmp_path))
    bus = RedisEventBus(redis_url, store, fallback_interval_s=60.0)  # long: every change below is published
    job_id = store.create("oto", {})
    events = watch_scripted_run(
        bus, store, job_id, lambda: store.claim_job(job_id, "worker-a", stale_after_s=20)
    )
    bus.close()
    assert [(e.state, e.progress_fraction, e.progress_stage) for e in events] == SCRIPTED_RUN_EVENTS
    assert [e.version for e in events] == sorted({e.version for e in events})
    assert events[-1].result == {"lines": 12}


def test_a_change_nobody_published_is_read_from_the_job_row(tmp_path: Path, redis_url: str) -> None:
    store = JobStore.from_url(migrated_sqlite(tmp_path))
    bus = RedisEventBus(redis_url, store, fallback_interval_s=0.05)
    job_id = store.create("oto", {})

    async def watch() -> list[JobEvent]:
        events = []
        async for event in bus.subscribe(job_id):
            events.append(event)
            if len(events) == 1:  # the message of this change is lost
                await asyncio.to_thread(store.cancel, job_id)
        return events

    events = asyncio.run(watch())
    bus.close()
    assert [e.state for e in events] == [JobState.queued, JobState.cancelled]


def test_without_redis_a_watcher_reads_the_job_row(tmp_path: Path) -> None:
    store = JobStore.from_url(migrated_sqlite(tmp_path))
    bus = RedisEventBus(NO_REDIS_URL, store, fallback_interval_s=0.05)
    job_id = store.create("oto", {})
    bus.publish(job_id, JobEvent.from_job(store.get(job_id)))  # logged, not raised
    claimed = store.claim_job(job_id, "worker-a", stale_after_s=20)
    assert claimed is not None
    store.succeed(job_id, "worker-a", {"lines": 3})
    events = asyncio.run(follow(bus, job_id))
    bus.close()
    assert [(e.state, e.result) for e in events] == [(JobState.succeeded, {"lines": 3})]
