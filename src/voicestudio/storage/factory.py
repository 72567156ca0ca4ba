"""The blob store a deployment configures, from one location string."""

from pathlib import Path

from voicestudio.storage.blobs import BlobStore, StorageError
from voicestudio.storage.local import LocalBlobStore


def open_blob_store(location: str | Path) -> BlobStore:
    """A store for `location`: a folder path or `file://` URL today; `s3://bucket/prefix` once S3 lands."""
    text = str(location)
    if text.startswith("file://"):
        return LocalBlobStore(Path(text.removeprefix("file://")))
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise StorageError(
            f"Blob storage {scheme}:// is not supported yet. Set the storage location to a local folder."
        )
    return LocalBlobStore(Path(text))
