"""What the studio keeps as files (takes, voicebanks, models) and the protocol every blob store follows."""

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from voicestudio.errors import VoicestudioError

# Keys are content addresses: sha256/<first 2 hex>/<next 2 hex>/<all 64 hex>.
BLOB_KEY_PATTERN = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
CHUNK_BYTES = 1 << 20


class StorageError(VoicestudioError):
    """A blob could not be stored or found; the message says which and what to do."""


class BlobTooLarge(StorageError):
    """An upload went past its size limit; nothing of it was kept."""


class BlobNotFound(StorageError):
    """No blob is stored under the key asked for."""


class InvalidBlobKey(StorageError):
    """A key that is not a content address (`sha256/ab/cd/<64 hex>`), e.g. a path from outside."""


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A stored blob: its key, its length in bytes and the sha256 of its content (lower-case hex)."""

    key: str
    size_bytes: int
    sha256: str


class BlobStore(Protocol):
    """Content-addressed blob storage: a local directory or any S3-compatible service."""

    def put_stream(self, chunks: Iterable[bytes] | BinaryIO, max_bytes: int) -> BlobRef:
        """Store everything `chunks` yields (or the file's content); BlobTooLarge past `max_bytes`."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The blob's content for streaming reads; the caller closes it."""
        ...

    def read(self, key: str) -> bytes:
        """The blob's whole content; for small blobs only."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under `key`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        ...

    def download_target(
        self, key: str, *, download_name: str | None = None, media_type: str | None = None
    ) -> Path | str:
        """A local file to send (Path) or a URL the browser can fetch directly (str).

        A URL carries `download_name` (Content-Disposition) and `media_type` itself; for a Path the web
        server sets them.
        """
        ...

    def modified_at(self, key: str) -> datetime | None:
        """When the blob was last stored (storing the same bytes again refreshes it), in UTC; None if
        nothing is stored under `key`. Garbage collection spares blobs younger than its grace."""
        ...

    def list_keys(self) -> Iterator[BlobRef]:
        """Every stored blob in key order, temporaries left out (garbage collection walks this)."""
        ...

    def remove_stale_temporaries(self, older_than_s: float = 3600.0) -> int:
        """Delete what uploads killed mid-way left behind (older than `older_than_s`); how many went."""
        ...

    def check(self) -> None:
        """StorageError, saying what to check, unless the store can be used now (for readiness probes)."""
        ...


def blob_key(sha256_hex: str) -> str:
    """The content address of a blob whose sha256 is `sha256_hex`."""
    return f"sha256/{sha256_hex[:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def check_blob_key(key: str) -> str:
    """`key` unchanged if it is a content address; InvalidBlobKey otherwise (never a path to follow)."""
    match = BLOB_KEY_PATTERN.fullmatch(key)
    if match is None or match.group(3)[:2] != match.group(1) or match.group(3)[2:4] != match.group(2):
        raise InvalidBlobKey(
            f"{key!r} is not a blob key; keys look like sha256/ab/cd/<64 hex digits>. "
            "Use the key the studio returned when the file was stored."
        )
    return key


def iter_chunks(source: Iterable[bytes] | BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterable[bytes]:
    """The content of an iterable of chunks or of a binary file, as chunks."""
    read = getattr(source, "read", None)
    if callable(read):
        while chunk := read(chunk_bytes):
            yield bytes(chunk)
    else:
        yield from source


class HashedChunks:
    """The chunks of an upload, checked (bytes, within `max_bytes`) and hashed as they pass; BlobTooLarge
    once they pass the limit. After the loop, `size_bytes` and `ref` describe the whole content."""

    def __init__(self, source: Iterable[bytes] | BinaryIO, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        self._source = source
        self._max_bytes = max_bytes
        self._digest = hashlib.sha256()
        self.size_bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        # Errors of the source (a dropped connection) pass through as they are.
        for chunk in iter_chunks(self._source):
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError(f"blob chunks must be bytes, not {type(chunk).__name__}")
            self.size_bytes += len(chunk)
            if self.size_bytes > self._max_bytes:
                raise too_large(self._max_bytes)
            self._digest.update(chunk)
            yield chunk

    @property
    def ref(self) -> BlobRef:
        """The content address of what has passed so far."""
        sha256 = self._digest.hexdigest()
        return BlobRef(key=blob_key(sha256), size_bytes=self.size_bytes, sha256=sha256)


def too_large(max_bytes: int) -> BlobTooLarge:
    """The error for an upload past `max_bytes`, worded the same by every store."""
    return BlobTooLarge(
        f"The file is larger than the limit of {describe_size(max_bytes)}. "
        "Upload a shorter or smaller file (e.g. a shorter recording, or 16-bit WAV)."
    )


def not_found(key: str) -> BlobNotFound:
    """The error for a key no blob is stored under, worded the same by every store."""
    return BlobNotFound(
        f"No stored file has the key {key}; it was deleted or never uploaded. Upload it again."
    )


def describe_size(size_bytes: int) -> str:
    """A byte count as people read it: 512 bytes, 3.2 MB, 1.5 GB."""
    if size_bytes < 1000:
        return f"{size_bytes} bytes"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes} bytes"
