"""Where takes, voicebanks and models live as files: content-addressed blobs behind one protocol."""

from voicestudio.storage.blobs import (
    BlobNotFound,
    BlobRef,
    BlobStore,
    BlobTooLarge,
    InvalidBlobKey,
    StorageError,
    blob_key,
    check_blob_key,
)
from voicestudio.storage.factory import open_blob_store
from voicestudio.storage.local import LocalBlobStore

__all__ = [
    "BlobNotFound",
    "BlobRef",
    "BlobStore",
    "BlobTooLarge",
    "InvalidBlobKey",
    "LocalBlobStore",
    "StorageError",
    "blob_key",
    "check_blob_key",
    "open_blob_store",
]
