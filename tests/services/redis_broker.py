"""A Redis database of its own for one test session, or a skip that says what is missing.

Test sessions may run side by side on one Redis server: each takes a free database number (1-15) by
setting a claim key in it, and empties only that database afterwards.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.exceptions import RedisError

SERVER_URL = os.environ.get("VOICESTUDIO_TEST_REDIS_URL", "redis://127.0.0.1:6379")
CLAIM_KEY = "voicestudio:test-session"
CLAIM_TTL_S = 3600  # a session that was killed frees its database after this


def redis_database() -> Iterator[str]:
    """Claim an unused database on the test server, yield its URL, empty it afterwards."""
    base = SERVER_URL.rstrip("/")
    owner = uuid.uuid4().hex
    try:
        databases = int(redis.Redis.from_url(f"{base}/0").config_get("databases").get("databases") or 16)
    except RedisError as error:
        pytest.skip(f"no Redis server at {SERVER_URL} (set VOICESTUDIO_TEST_REDIS_URL): {error}")
    for number in range(1, databases):
        client = redis.Redis.from_url(f"{base}/{number}")
        if client.dbsize() == 0 and client.set(CLAIM_KEY, owner, nx=True, ex=CLAIM_TTL_S):
            break
        client.close()
    else:
        pytest.skip(f"every database of the Redis server at {SERVER_URL} is in use by another test session")
    try:
        yield f"{base}/{number}"
    finally:
        if client.get(CLAIM_KEY) == owner.encode():
            client.flushdb()
        client.close()
