"""Feeding a request body, as it arrives, to the blob store's blocking writer in a worker thread."""

from collections.abc import AsyncIterator, Iterator

import anyio.from_thread


def blocking_chunks(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The chunks of an async stream for code running in an anyio worker thread (one event-loop hop each)."""

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk
