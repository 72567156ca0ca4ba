"""Blobs in any S3-compatible bucket (AWS, MinIO, R2, SeaweedFS), under the same content addresses as on disk.

An upload streams to a temporary object while it is hashed and then is copied (server-side) to its
content key, so readers never see half a blob and the same content is kept once. Browsers and rented GPUs
fetch and send blobs through presigned URLs, so large files never pass through the API servers.
"""

import functools
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, Final
from urllib.parse import quote

import boto3  # type: ignore[import-untyped]
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from voicestudio.storage.blobs import (
    BLOB_KEY_PATTERN,
    BlobRef,
    HashedChunks,
    InvalidBlobKey,
    StorageError,
    blob_key,
    check_blob_key,
    not_found,
    too_large,
)
from voicestudio.storage.s3_errors import (
    MISSING_CODES,
    NO_BUCKET_CODES,
    error_code,
    is_missing,
    no_bucket,
    s3_errors,
)
from voicestudio.storage.s3_io import MultipartUpload, body_reader
from voicestudio.storage.s3_location import MAX_URL_EXPIRY_S, S3Location, parse_s3_location

PART_BYTES: Final = 8 << 20
MIN_PART_BYTES: Final = 5 << 20  # S3's smallest part but the last
COPY_LIMIT_BYTES: Final = 5 << 30  # the most one CopyObject request copies; larger blobs copy in parts
CONNECT_TIMEOUT_S: Final = 5.0
READ_TIMEOUT_S: Final = 60.0
MAX_POOL_CONNECTIONS: Final = 50  # about as many as an API server's request threads
HASH_CHUNK_BYTES: Final = 1 << 20
INCOMING: Final = "incoming/"
SCRATCH: Final = "scratch/"
SCRATCH_KEY_PATTERN: Final = re.compile(r"scratch/[0-9a-f]{32}/[A-Za-z0-9._-]{1,100}")
UNSAFE_NAME_CHARS: Final = re.compile(r"[^A-Za-z0-9._-]+")
_SESSION_LOCK: Final = threading.Lock()


class S3BlobStore:
    """Content-addressed blobs under `<prefix>sha256/ab/cd/<hex>` in one bucket.

    Temporaries live under `<prefix>incoming/` (uploads in flight) and `<prefix>scratch/` (files a
    remote worker puts through a presigned URL); `remove_stale_temporaries` sweeps what a crash left.
    """

    def __init__(self, location: S3Location, part_bytes: int = PART_BYTES) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES} (S3's smallest part)")
        self.location = location
        self.part_bytes = part_bytes
        self._client = _client(location, location.endpoint_url)
        self._presigner = (
            _client(location, location.public_endpoint_url) if location.public_endpoint_url else self._client
        )
        self._bucket_seen = False
        if location.create_bucket:
            self.ensure_bucket()

    @classmethod
    def from_location(cls, text: str) -> "S3BlobStore":
        """The store for `s3://bucket/prefix?endpoint_url=...` (see s3_location for the settings)."""
        return cls(parse_s3_location(text))

    # The BlobStore protocol.

    def put_stream(self, chunks: Iterable[bytes] | BinaryIO, max_bytes: int) -> BlobRef:
        """Stream `chunks` to the bucket while hashing; BlobTooLarge (nothing kept) past `max_bytes`.

        A body smaller than one part goes up in one request straight to its content key; a larger one
        goes up in parts to a temporary object that is then copied to its content key.
        """
        chunks_in = HashedChunks(chunks, max_bytes)
        if not self._bucket_seen:
            self.check()  # some services make a missing bucket on the first PUT; say it is missing
        pending = bytearray()
        upload: MultipartUpload | None = None
        try:
            for chunk in chunks_in:
                pending += chunk
                while len(pending) >= self.part_bytes:
                    if upload is None:
                        upload = MultipartUpload(self._client, self.location, self._incoming_key())
                    upload.send(bytes(pending[: self.part_bytes]))
                    del pending[: self.part_bytes]
            if upload is not None:
                if pending:
                    upload.send(bytes(pending))
                upload.complete()
        except BaseException:
            if upload is not None:
                upload.abort()
            raise
        ref = chunks_in.ref
        if upload is None:
            # Written even when the key is there: the new LastModified tells garbage collection that
            # these bytes were just stored again, and their record is on the way.
            with s3_errors(self.location, "storing a file"):
                self._client.put_object(
                    Bucket=self.location.bucket,
                    Key=self._full(ref.key),
                    Body=bytes(pending),
                    ContentLength=len(pending),
                )
        else:
            self._settle(upload.key, ref)
        return ref

    def open(self, key: str) -> BinaryIO:
        """The blob's content as a buffered binary file streaming from the bucket; the caller closes it."""
        body = self._get(self._full(check_blob_key(key)), f"opening {key}")
        if body is None:
            raise not_found(key)
        return body_reader(body, self.location, key)

    def read(self, key: str) -> bytes:
        """The blob's whole content."""
        with self.open(key) as blob:
            return blob.read()

    def exists(self, key: str) -> bool:
        """Whether the blob is stored; StorageError if the bucket itself is missing or refuses us."""
        return self._head(self._full(check_blob_key(key)), f"looking up {key}") is not None

    def delete(self, key: str) -> None:
        """Remove the blob; a missing one is fine (S3 deletes are idempotent)."""
        full = self._full(check_blob_key(key))
        with s3_errors(self.location, f"deleting {key}"):
            self._client.delete_object(Bucket=self.location.bucket, Key=full)

    def download_target(
        self, key: str, *, download_name: str | None = None, media_type: str | None = None
    ) -> str:
        """A presigned GET URL the browser fetches directly; BlobNotFound if nothing is stored under `key`."""
        if not self.exists(key):
            raise not_found(key)
        return self.presign_get(key, self.location.url_expiry_s, download_name, media_type)

    # Beyond the protocol: presigned URLs for rented GPUs, the sweep, and garbage collection's listing.

    def presign_get(
        self,
        key: str,
        expires_s: int,
        download_name: str | None = None,
        media_type: str | None = None,
    ) -> str:
        """A URL that GETs the blob without credentials for `expires_s` seconds (at most 7 days)."""
        params: dict[str, str] = {"Bucket": self.location.bucket, "Key": self._full(check_blob_key(key))}
        if download_name:
            params["ResponseContentDisposition"] = content_disposition(download_name)
        if media_type:
            params["ResponseContentType"] = media_type
        with s3_errors(self.location, f"signing a download URL for {key}"):
            url: str = self._presigner.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=_expiry(expires_s)
            )
        return url

    def scratch_put_url(self, name: str, expires_s: int) -> tuple[str, str]:
        """A URL a remote worker PUTs one file to (up to 5 GB), and the scratch key to adopt it by."""
        safe = UNSAFE_NAME_CHARS.sub("_", name).strip("._")[:100] or "file"
        scratch_key = f"{SCRATCH}{uuid.uuid4().hex}/{safe}"
        with s3_errors(self.location, "signing an upload URL"):
            url: str = self._presigner.generate_presigned_url(
                "put_object",
                Params={"Bucket": self.location.bucket, "Key": self._full(scratch_key)},
                ExpiresIn=_expiry(expires_s),
            )
        return url, scratch_key

    def adopt_scratch(self, scratch_key: str, max_bytes: int) -> BlobRef:
        """Hash the file a worker put under `scratch_key` and move it to its content key.

        BlobNotFound if the worker put nothing; BlobTooLarge (the scratch file deleted) past `max_bytes`.
        """
        if SCRATCH_KEY_PATTERN.fullmatch(scratch_key) is None:
            raise InvalidBlobKey(
                f"{scratch_key!r} is not a scratch key; use the key scratch_put_url returned with the URL."
            )
        full = self._full(scratch_key)
        head = self._head(full, "looking up a worker's upload")
        if head is None:
            raise StorageError(
                f"Nothing was uploaded to {scratch_key}: the worker did not PUT its file, or the URL "
                "expired first. Run the step again."
            )
        if int(head["ContentLength"]) > max_bytes:
            self._delete_quietly(full)
            raise too_large(max_bytes)
        digest = hashlib.sha256()
        size_bytes = 0
        body = self._get(full, "reading a worker's upload")
        if body is None:
            raise StorageError(
                f"The worker's upload {scratch_key} vanished while it was read. Run the step again."
            )
        with body_reader(body, self.location, scratch_key) as stream:
            while chunk := stream.read(HASH_CHUNK_BYTES):
                size_bytes += len(chunk)
                if size_bytes > max_bytes:
                    self._delete_quietly(full)
                    raise too_large(max_bytes)
                digest.update(chunk)
        ref = BlobRef(key=blob_key(digest.hexdigest()), size_bytes=size_bytes, sha256=digest.hexdigest())
        self._settle(full, ref)
        return ref

    def list_keys(self) -> Iterator[BlobRef]:
        """Every stored blob, in key order (garbage collection walks this); temporaries are left out."""
        start = self._full("sha256/")
        for item in self._list(start, "listing the stored files"):
            key = str(item["Key"])[len(self.location.prefix) :]
            match = BLOB_KEY_PATTERN.fullmatch(key)
            if match is not None:
                yield BlobRef(key=key, size_bytes=int(item["Size"]), sha256=match.group(3))

    def remove_stale_temporaries(self, older_than_s: float = 3600.0) -> int:
        """Delete temporaries and abandoned multipart uploads older than `older_than_s`; how many went."""
        deadline = time.time() - older_than_s
        removed = 0
        for area in (INCOMING, SCRATCH):
            for item in list(self._list(self._full(area), "sweeping temporaries")):
                if item["LastModified"].timestamp() < deadline:
                    self._delete_quietly(str(item["Key"]))
                    removed += 1
        with s3_errors(self.location, "sweeping unfinished uploads"):
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.location.bucket, Prefix=self._full(INCOMING)
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Initiated"].timestamp() < deadline:
                        self._client.abort_multipart_upload(
                            Bucket=self.location.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        removed += 1
        return removed

    def check(self) -> None:
        """StorageError (saying what to check) unless the bucket is there and these credentials reach it."""
        if not self._bucket_exists():
            raise no_bucket(self.location)

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing (tests and one-machine setups ask for this)."""
        if self._bucket_exists():
            return
        options: dict[str, Any] = {"Bucket": self.location.bucket}
        region = self.location.region
        if region and region != "us-east-1" and self.location.endpoint_url is None:
            options["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with s3_errors(self.location, f"creating the bucket {self.location.bucket}"):
            try:
                self._client.create_bucket(**options)
            except ClientError as error:
                if error_code(error) != "BucketAlreadyOwnedByYou":
                    raise
        self._bucket_seen = True

    def modified_at(self, key: str) -> datetime | None:
        """When the blob was last stored (the object's LastModified), or None if nothing is under `key`."""
        head = self._head(self._full(check_blob_key(key)), f"looking up {key}")
        if head is None:
            return None
        stamp: datetime = head["LastModified"]
        return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)

    # Inside.

    def _full(self, key: str) -> str:
        return f"{self.location.prefix}{key}"

    def _incoming_key(self) -> str:
        return self._full(f"{INCOMING}{uuid.uuid4().hex}")

    def _bucket_exists(self) -> bool:
        """Whether the bucket is there; StorageError if the endpoint cannot be reached or refuses us."""
        with s3_errors(self.location, "checking the bucket"):
            try:
                self._client.head_bucket(Bucket=self.location.bucket)
            except ClientError as error:
                if error_code(error) in MISSING_CODES | NO_BUCKET_CODES:
                    return False
                raise
        self._bucket_seen = True
        return True

    def _get(self, full: str, doing: str) -> Any | None:
        """The streaming body of the object, or None if it is missing."""
        with s3_errors(self.location, doing):
            try:
                return self._client.get_object(Bucket=self.location.bucket, Key=full)["Body"]
            except ClientError as error:
                if not is_missing(error):
                    raise
        return None

    def _head(self, full: str, doing: str) -> dict[str, Any] | None:
        """The object's metadata, or None if it is missing (after making sure the bucket is there)."""
        with s3_errors(self.location, doing):
            try:
                answer: dict[str, Any] = self._client.head_object(Bucket=self.location.bucket, Key=full)
                return answer
            except ClientError as error:
                if not is_missing(error):
                    raise
        if not self._bucket_seen:
            self.check()  # a HEAD answers 404 for a missing bucket too; say which one it is
        return None

    def _settle(self, full_temporary: str, ref: BlobRef) -> None:
        """Copy a whole temporary object to `ref`'s content key, then delete it.

        Copied even when the key is there (the same bytes): the new LastModified refreshes the blob's
        age, so garbage collection leaves it to the record the upload is about to make.
        """
        target = self._full(ref.key)
        try:
            with s3_errors(self.location, "storing a file"):
                self._copy(full_temporary, target, ref.size_bytes)
        finally:
            self._delete_quietly(full_temporary)

    def _copy(self, source: str, target: str, size_bytes: int) -> None:
        copy_source = {"Bucket": self.location.bucket, "Key": source}
        if size_bytes <= COPY_LIMIT_BYTES:
            self._client.copy_object(Bucket=self.location.bucket, Key=target, CopySource=copy_source)
        else:
            self._client.copy(
                copy_source,
                self.location.bucket,
                target,
                Config=TransferConfig(multipart_threshold=COPY_LIMIT_BYTES, multipart_chunksize=1 << 30),
            )

    def _delete_quietly(self, full: str) -> None:
        """Delete an object whose loss is harmless; a failure leaves it for the sweep."""
        try:
            with s3_errors(self.location, "removing a temporary"):
                self._client.delete_object(Bucket=self.location.bucket, Key=full)
        except StorageError:
            pass

    def _list(self, prefix: str, doing: str) -> Iterator[dict[str, Any]]:
        with s3_errors(self.location, doing):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=prefix
            )
            for page in pages:
                yield from page.get("Contents", [])


def content_disposition(download_name: str) -> str:
    """An attachment header naming the file, readable by old browsers (ASCII) and new (UTF-8)."""
    plain = re.sub(r'[^\x20-\x7e]|["\\]', "_", download_name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(download_name, safe='')}"


def _expiry(expires_s: int) -> int:
    if not 1 <= expires_s <= MAX_URL_EXPIRY_S:
        raise ValueError(f"a presigned URL lives 1 s to {MAX_URL_EXPIRY_S} s, not {expires_s} s")
    return int(expires_s)


@functools.lru_cache(maxsize=16)
def _session(access_key_id: str | None, secret_access_key: str | None, region: str | None) -> Any:
    """One boto3 session per set of credentials: it loads S3's service model once for every client."""
    return boto3.session.Session(
        aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key, region_name=region
    )


def _client(location: S3Location, endpoint_url: str | None) -> Any:
    """A boto3 S3 client for `endpoint_url`, with credentials from the location or boto3's usual chain."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": location.addressing_style},
        retries={"max_attempts": location.max_attempts, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        max_pool_connections=MAX_POOL_CONNECTIONS,
        # Checksums only where S3 demands them: several S3-compatible services refuse the newer headers.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    with _SESSION_LOCK:  # a session is not safe to make clients from in two threads at once
        session = _session(location.access_key_id, location.secret_access_key, location.region)
        return session.client("s3", endpoint_url=endpoint_url, config=config)
