"""Blobs as files under one directory, named by their sha256; the default store of a one-machine studio."""

import contextlib
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from voicestudio.storage.blobs import (
    BLOB_KEY_PATTERN,
    BlobRef,
    HashedChunks,
    StorageError,
    check_blob_key,
    not_found,
)

TEMPORARY_DIR = ".incoming"


class LocalBlobStore:
    """Content-addressed files under `root`: written to a temporary file first, renamed into place when whole.

    Readers never see half a blob, an upload that fails or runs over its limit leaves nothing behind,
    and storing the same content twice (even at the same moment) keeps one file.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def put_stream(self, chunks: Iterable[bytes] | BinaryIO, max_bytes: int) -> BlobRef:
        """Stream `chunks` to disk while hashing; BlobTooLarge (nothing kept) once they pass `max_bytes`."""
        chunks_in = HashedChunks(chunks, max_bytes)
        incoming = self.root / TEMPORARY_DIR
        try:
            incoming.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(
                f"Cannot create the storage folder {incoming}: {error.strerror}. "
                "Check that the data folder exists and is writable."
            ) from error
        part = incoming / f"{uuid.uuid4().hex}.part"
        try:
            with _disk(self.root):
                out = part.open("xb")
            with out:
                # Errors of the source pass through as they are; only disk errors become StorageError.
                for chunk in chunks_in:
                    with _disk(self.root):
                        out.write(chunk)
                with _disk(self.root):
                    out.flush()
                    os.fsync(out.fileno())
            ref = chunks_in.ref
            target = self._path(ref.key)
            with _disk(self.root):
                target.parent.mkdir(parents=True, exist_ok=True)
                # Same content, same name: a concurrent writer of the same bytes renames an identical
                # file. The new file's mtime is now, so storing known bytes again refreshes the blob's
                # age and garbage collection leaves it to the upload's record, on the way.
                os.replace(part, target)
            _fsync_directory(target.parent)
        finally:
            part.unlink(missing_ok=True)
        return ref

    def open(self, key: str) -> BinaryIO:
        """The blob's file, opened for reading; the caller closes it."""
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise not_found(key) from None

    def read(self, key: str) -> bytes:
        """The blob's whole content."""
        with self.open(key) as blob:
            return blob.read()

    def exists(self, key: str) -> bool:
        """Whether the blob's file is present."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the blob's file; a missing one is fine."""
        self._path(key).unlink(missing_ok=True)

    def download_target(
        self, key: str, *, download_name: str | None = None, media_type: str | None = None
    ) -> Path:
        """The blob's file, for the web server to send as it is (it names the file and its type)."""
        del download_name, media_type  # the response that sends the file carries them
        path = self._path(key)
        if not path.is_file():
            raise not_found(key)
        return path

    def modified_at(self, key: str) -> datetime | None:
        """The blob file's mtime (UTC), or None if it is not there."""
        try:
            return datetime.fromtimestamp(self._path(key).stat().st_mtime, UTC)
        except FileNotFoundError:
            return None

    def list_keys(self) -> Iterator[BlobRef]:
        """Every stored blob, in key order (garbage collection walks this); temporaries are left out."""
        for path in sorted((self.root / "sha256").glob("??/??/*")):
            key = path.relative_to(self.root).as_posix()
            match = BLOB_KEY_PATTERN.fullmatch(key)
            if match is None or not path.is_file():
                continue
            with contextlib.suppress(FileNotFoundError):  # deleted while we walked
                yield BlobRef(key=key, size_bytes=path.stat().st_size, sha256=match.group(3))

    def check(self) -> None:
        """StorageError unless the storage folder exists (or can be made) and is writable."""
        with _disk(self.root):
            self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(
                f"The storage folder {self.root} is not writable. "
                "Give the studio's user write access to it or choose another data folder."
            )

    def remove_stale_temporaries(self, older_than_s: float = 3600.0) -> int:
        """Delete temporary files left by a process killed mid-upload; returns how many were removed."""
        removed = 0
        deadline = time.time() - older_than_s
        for part in (self.root / TEMPORARY_DIR).glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                if part.stat().st_mtime < deadline:
                    part.unlink()
                    removed += 1
        return removed

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_blob_key(key).split("/"))


@contextlib.contextmanager
def _disk(root: Path) -> Iterator[None]:
    """Turn a failing disk operation into a StorageError that says what to check."""
    try:
        yield
    except OSError as error:
        raise StorageError(
            f"Could not store the file: {error.strerror or error}. Check free disk space in {root}."
        ) from error


def _fsync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable where the system allows it (POSIX); elsewhere do nothing."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
