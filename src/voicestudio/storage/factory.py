"""The blob store a deployment configures, from one location string."""

from pathlib import Path

from voicestudio.storage.blobs import BlobStore, StorageError
from voicestudio.storage.local import LocalBlobStore


def open_blob_store(location: str | Path) -> BlobStore:
    """A store for `location`: a folder path, a `file://` URL, or `s3://bucket/prefix?endpoint_url=...`."""
    text = str(location)
    if text.startswith("file://"):
        return LocalBlobStore(Path(text.removeprefix("file://")))
    if text.startswith("s3://"):
        from voicestudio.storage.s3 import S3BlobStore  # boto3 loads only where S3 is configured

        return S3BlobStore.from_location(text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise StorageError(
            f"Blob storage {scheme}:// is not supported. Set the storage location to a local folder "
            "or to s3://<bucket>/<prefix>?endpoint_url=<url>."
        )
    return LocalBlobStore(Path(text))
