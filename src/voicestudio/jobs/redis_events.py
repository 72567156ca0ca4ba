"""Job events over Redis pub/sub, for workers on other hosts: the worker publishes, any API server follows.

Pub/sub forgets a message nobody hears, so a subscriber also re-reads the job row whenever the channel has
been quiet for `fallback_interval_s`: a lost message (or a Redis outage) slows a watcher, never hangs it.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Final

import redis
import redis.asyncio
from redis.exceptions import RedisError

from voicestudio.domain.jobs import JobState
from voicestudio.jobs.events import JobEvent
from voicestudio.jobs.store import JobStore

CHANNEL_PREFIX: Final = "voicestudio:job:"
FALLBACK_INTERVAL_S: Final = 2.0  # a quiet channel: read the row this often anyway
CONNECT_TIMEOUT_S: Final = 5.0  # publishing never waits longer for a Redis that is gone

_LOG = logging.getLogger("voicestudio.jobs")


def job_channel(job_id: str) -> str:
    """The pub/sub channel of one job's events."""
    return f"{CHANNEL_PREFIX}{job_id}"


def event_to_json(event: JobEvent) -> str:
    """The event as one JSON message."""
    return json.dumps(
        {
            "job_id": event.job_id,
            "version": event.version,
            "state": event.state.value,
            "progress_fraction": event.progress_fraction,
            "progress_stage": event.progress_stage,
            "cancel_requested": event.cancel_requested,
            "error_message": event.error_message,
            "result": event.result,
        }
    )


def event_from_json(message: str | bytes) -> JobEvent:
    """An event read back from `event_to_json`'s message."""
    fields = json.loads(message)
    return JobEvent(
        job_id=str(fields["job_id"]),
        version=int(fields["version"]),
        state=JobState(fields["state"]),
        progress_fraction=float(fields["progress_fraction"]),
        progress_stage=str(fields["progress_stage"]),
        cancel_requested=bool(fields["cancel_requested"]),
        error_message=fields["error_message"],
        result=fields["result"],
    )


class RedisEventBus:
    """An EventBus on Redis pub/sub (channel `voicestudio:job:<id>`), with the job row as its fallback."""

    def __init__(
        self, url: str, store: JobStore, *, fallback_interval_s: float = FALLBACK_INTERVAL_S
    ) -> None:
        self._url = url
        self._store = store
        self._fallback_interval_s = fallback_interval_s
        self._publisher = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S
        )

    def publish(self, job_id: str, event: JobEvent) -> None:
        """Send the event to every subscriber of the job; a Redis failure is logged, never raised."""
        try:
            self._publisher.publish(job_channel(job_id), event_to_json(event))
        except RedisError as error:
            _LOG.warning("event of job %s not published (%s); watchers will read the job row", job_id, error)

    def close(self) -> None:
        """Close the publishing connections."""
        self._publisher.close()

    async def subscribe(self, job_id: str) -> AsyncIterator[JobEvent]:
        """The job's current state, then each newer version, ending after the final one; JobNotFound if
        there is no such job. Listening starts before the first read, so no change falls in between."""
        client = redis.asyncio.Redis.from_url(self._url, socket_connect_timeout=CONNECT_TIMEOUT_S)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        listening = True
        try:
            try:
                await pubsub.subscribe(job_channel(job_id))
            except (RedisError, OSError) as error:
                _LOG.warning("job %s: no Redis events (%s); reading the job row instead", job_id, error)
                listening = False
            seen_version = -1
            event = JobEvent.from_job(await asyncio.to_thread(self._store.get, job_id))
            while True:
                if event.version > seen_version:
                    seen_version = event.version
                    yield event
                    if event.is_final:
                        return
                heard = await self._next_message(pubsub, job_id) if listening else None
                if heard is None:
                    if not listening:
                        await asyncio.sleep(self._fallback_interval_s)
                    event = JobEvent.from_job(await asyncio.to_thread(self._store.get, job_id))
                else:
                    event = heard
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()

    async def _next_message(self, channel: redis.asyncio.client.PubSub, job_id: str) -> JobEvent | None:
        """The next event on the channel, or None once it has been quiet for the fallback interval."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._fallback_interval_s
        while (left_s := deadline - loop.time()) > 0:
            try:
                message = await channel.get_message(ignore_subscribe_messages=True, timeout=left_s)
            except (RedisError, OSError) as error:
                _LOG.warning("job %s: Redis events stopped (%s); reading the job row", job_id, error)
                await asyncio.sleep(left_s)
                return None
            if message is not None and message.get("type") == "message":
                return event_from_json(message["data"])
        return None
