"""The studio page follows a job: its current state first, then each change, until it ends."""

import asyncio
from pathlib import Path

from voicestudio.jobs import JobState, JobStore, PollingEventBus

from .conftest import migrated_sqlite
from .scripted import SCRIPTED_RUN_EVENTS, follow, watch_scripted_run


def test_a_subscriber_sees_each_change_in_order_and_the_end(tmp_path: Path) -> None:
    store = JobStore.from_url(migrated_sqlite(tmp_path))
    bus = PollingEventBus(store, interval_s=10.0)  # long: every change below is announced by publish
    job_id = store.create("oto.generate", {})
    events = watch_scripted_run(bus, store, job_id, lambda: store.claim("worker-a"))
    assert [(e.state, e.progress_fraction, e.progress_stage) for e in events] == SCRIPTED_RUN_EVENTS
    assert [e.version for e in events] == sorted({e.version for e in events})
    assert events[-1].is_final and events[-1].result == {"lines": 12}


def test_a_late_subscriber_gets_the_final_state_at_once(tmp_path: Path) -> None:
    store = JobStore.from_url(migrated_sqlite(tmp_path))
    job_id = store.create("oto.generate", {})
    store.cancel(job_id)
    events = asyncio.run(follow(PollingEventBus(store), job_id))
    assert [(e.state, e.is_final) for e in events] == [(JobState.cancelled, True)]
