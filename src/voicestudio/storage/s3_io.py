"""Streaming to and from one S3 object: a multipart upload fed part by part, and a buffered reader."""

import io
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from voicestudio.storage.s3_errors import s3_errors
from voicestudio.storage.s3_location import S3Location

_LOG = logging.getLogger("voicestudio.storage")
READ_BUFFER_BYTES = 1 << 20


class MultipartUpload:
    """One multipart upload to `key`: `send` the parts in order, then `complete`; `abort` keeps nothing."""

    def __init__(self, client: Any, location: S3Location, key: str) -> None:
        self._client = client
        self._location = location
        self.key = key
        self.parts: list[dict[str, Any]] = []
        with s3_errors(location, "starting an upload"):
            self._upload_id: str = client.create_multipart_upload(Bucket=location.bucket, Key=key)["UploadId"]

    def send(self, data: bytes) -> None:
        """Upload the next part (every part but the last must be at least 5 MiB)."""
        number = len(self.parts) + 1
        with s3_errors(self._location, f"uploading part {number} of a file"):
            answer = self._client.upload_part(
                Bucket=self._location.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=data,
                ContentLength=len(data),
            )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def complete(self) -> None:
        """Join the parts into the object; only now does `key` exist."""
        with s3_errors(self._location, "finishing an upload"):
            self._client.complete_multipart_upload(
                Bucket=self._location.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self.parts},
            )

    def abort(self) -> None:
        """Drop the parts sent so far; a failure here is logged (stale uploads are swept later)."""
        try:
            self._client.abort_multipart_upload(
                Bucket=self._location.bucket, Key=self.key, UploadId=self._upload_id
            )
        except (BotoCoreError, ClientError):
            _LOG.warning("could not abort the upload of %s; it is swept as a stale temporary", self.key)


class _BodyStream(io.RawIOBase):
    """The body of a GET as a raw stream, with connection failures turned into StorageError."""

    def __init__(self, body: Any, location: S3Location, key: str) -> None:
        self._body = body
        self._location = location
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with s3_errors(self._location, f"reading {self._key}"):
            data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def body_reader(body: Any, location: S3Location, key: str) -> io.BufferedReader:
    """A buffered binary file over the streaming body of a GET; the caller closes it."""
    return io.BufferedReader(_BodyStream(body, location, key), READ_BUFFER_BYTES)
