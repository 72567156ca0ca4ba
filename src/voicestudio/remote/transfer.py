"""Files through presigned URLs, inside the endpoint: GET the dataset and checkpoint, PUT the new checkpoint.

Streams in 1 MiB pieces and hashes on the way, so a checkpoint of a gigabyte never sits in memory;
a transient failure (5xx, dropped connection) is tried again a few times.
"""

import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from voicestudio.remote.errors import RemoteInputError, without_secrets

_LOG = logging.getLogger("voicestudio.remote")
CHUNK_BYTES: Final = 1 << 20
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class TransferPolicy:
    """Tries per transfer, the first wait between them (doubling), and the socket timeout (s)."""

    attempts: int = 4
    first_delay_s: float = 1.0
    socket_timeout_s: float = 120.0


DEFAULT_TRANSFER = TransferPolicy()


def download(url: str, path: Path, what: str, policy: TransferPolicy = DEFAULT_TRANSFER) -> str:
    """GET `url` into `path` (through a temporary name); returns the sha256 of what arrived."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")

    def once() -> str:
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=policy.socket_timeout_s) as response, part.open("wb") as out:
            while piece := response.read(CHUNK_BYTES):
                digest.update(piece)
                out.write(piece)
        os.replace(part, path)
        return digest.hexdigest()

    try:
        return _with_retries(once, "download", what, url, policy)
    finally:
        part.unlink(missing_ok=True)


def upload(path: Path, url: str, what: str, policy: TransferPolicy = DEFAULT_TRANSFER) -> str:
    """PUT the file at `path` to `url` with its length (presigned S3 PUTs take no chunked bodies);
    returns its sha256."""
    size_bytes = path.stat().st_size
    sha256 = _sha256_of(path)

    def once() -> str:
        with path.open("rb") as body:
            request = urllib.request.Request(
                url,
                data=body,
                method="PUT",
                headers={"Content-Length": str(size_bytes), "Content-Type": "application/octet-stream"},
            )
            with urllib.request.urlopen(request, timeout=policy.socket_timeout_s) as response:
                response.read()
        return sha256

    return _with_retries(once, "upload", what, url, policy)


def _with_retries(once: Callable[[], str], doing: str, what: str, url: str, policy: TransferPolicy) -> str:
    problem = ""
    for attempt in range(1, policy.attempts + 1):
        try:
            return once()
        except urllib.error.HTTPError as answer:
            problem = f"the storage answered {answer.code} {answer.reason}"
            if answer.code not in _RETRIED_STATUSES:
                break
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            problem = f"the connection failed ({reason})"
        if attempt < policy.attempts:
            delay_s = policy.first_delay_s * 2 ** (attempt - 1)
            _LOG.warning("%s of %s: %s; trying again in %.1f s", doing, what, problem, delay_s)
            time.sleep(delay_s)
    raise RemoteInputError(
        f"Could not {doing} the {what} ({without_secrets(url)}): {problem}. The studio's presigned URLs "
        "live as long as VOICESTUDIO_REMOTE_TIMEOUT_S: if the chunk waited that long for a worker, raise it; "
        "otherwise check that the endpoint can reach the storage, then train again."
    )


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(CHUNK_BYTES):
            digest.update(piece)
    return digest.hexdigest()
