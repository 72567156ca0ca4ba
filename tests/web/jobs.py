"""Waiting for a studio job through the API, as the browser does when it has no WebSocket."""

import time
from typing import Any

import httpx

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
GIVE_UP_AFTER_S = 120.0  # only so that a broken worker fails the test instead of hanging it


def wait_for_state(
    client: httpx.Client, job_id: str, states: frozenset[str], poll_s: float = 0.05
) -> dict[str, Any]:
    """The job's JSON once its state is one of `states`; AssertionError if it never gets there."""
    give_up = time.monotonic() + GIVE_UP_AFTER_S
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        if time.monotonic() > give_up:
            raise AssertionError(f"job {job_id} never reached {sorted(states)}; last seen: {job}")
        time.sleep(poll_s)


def finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    return wait_for_state(client, job_id, FINISHED)
