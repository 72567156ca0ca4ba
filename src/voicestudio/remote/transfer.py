"""Files through presigned URLs, inside the endpoint: GET the dataset and checkpoint, PUT the new checkpoint.

Streams in 1 MiB pieces and hashes on the way, so a checkpoint of a gigabyte never sits in memory;
a transient failure (5xx, dropped connection) is tried again a few times.
"""

import hashlib
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Final

from voicestudio.remote.errors import RemoteInputError, without_secrets
from voicestudio.remote.transport import RetryPolicy, with_retries

CHUNK_BYTES: Final = 1 << 20
DEFAULT_TRANSFER: Final = RetryPolicy(  # tries per transfer, the waits between them, the socket timeout
    attempts=4, first_delay_s=1.0, max_delay_s=8.0, request_timeout_s=120.0
)


def download(url: str, path: Path, what: str, policy: RetryPolicy = DEFAULT_TRANSFER) -> str:
    """GET `url` into `path` (through a temporary name); returns the sha256 of what arrived."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")

    def once() -> str:
        digest = hashlib.sha256()
        with (
            urllib.request.urlopen(url, timeout=policy.request_timeout_s) as response,
            part.open("wb") as out,
        ):
            while piece := response.read(CHUNK_BYTES):
                digest.update(piece)
                out.write(piece)
        os.replace(part, path)
        return digest.hexdigest()

    try:
        return _with_retries(once, "download", what, url, policy)
    finally:
        part.unlink(missing_ok=True)


def upload(path: Path, url: str, what: str, policy: RetryPolicy = DEFAULT_TRANSFER) -> str:
    """PUT the file at `path` to `url` with its length (presigned S3 PUTs take no chunked bodies);
    returns its sha256."""
    from voicestudio.neural.checkpoints import (
        sha256_of,  # loads torch: only the endpoint, which trains, uploads
    )

    size_bytes = path.stat().st_size
    sha256 = sha256_of(path)

    def once() -> str:
        with path.open("rb") as body:
            request = urllib.request.Request(
                url,
                data=body,
                method="PUT",
                headers={"Content-Length": str(size_bytes), "Content-Type": "application/octet-stream"},
            )
            with urllib.request.urlopen(request, timeout=policy.request_timeout_s) as response:
                response.read()
        return sha256

    return _with_retries(once, "upload", what, url, policy)


def _with_retries(once: Callable[[], str], doing: str, what: str, url: str, policy: RetryPolicy) -> str:
    def cannot(problem: str) -> RemoteInputError:
        return RemoteInputError(
            f"Could not {doing} the {what} ({without_secrets(url)}): {problem}. The studio's presigned URLs "
            "live as long as VOICESTUDIO_REMOTE_TIMEOUT_S: if the chunk waited that long for a worker, raise "
            "it; otherwise check that the endpoint can reach the storage, then train again."
        )

    return with_retries(once, policy, f"{doing} of {what}", cannot)
