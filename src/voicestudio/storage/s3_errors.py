"""botocore's failures (endpoint down, no bucket, access denied) as StorageErrors that say what to check."""

import contextlib
from collections.abc import Iterator
from typing import Final

from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from voicestudio.storage.blobs import StorageError
from voicestudio.storage.s3_location import S3Location

MISSING_CODES: Final = frozenset({"404", "NoSuchKey", "NotFound"})
NO_BUCKET_CODES: Final = frozenset({"NoSuchBucket"})
DENIED_CODES: Final = frozenset(
    {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "InvalidToken"}
)


def error_code(error: ClientError) -> str:
    """The S3 error code of a failed request ("NoSuchKey", "404", ...)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def is_missing(error: Exception) -> bool:
    """Whether `error` says the object asked for does not exist."""
    return isinstance(error, ClientError) and error_code(error) in MISSING_CODES


def no_bucket(location: S3Location) -> StorageError:
    """The error for a bucket that is not there."""
    return StorageError(
        f"The bucket {location.bucket} does not exist at {location.endpoint_name}. Create it, correct the "
        "bucket in the storage location, or add create_bucket=1 to let the studio create it."
    )


def explain(error: Exception, location: S3Location, doing: str) -> StorageError:
    """A StorageError for a failed S3 request made while `doing` (e.g. "storing a file")."""
    where = location.endpoint_name
    bucket = location.bucket
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return StorageError(
            f"No S3 credentials were found for {where} while {doing}. Set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the studio's environment."
        )
    if isinstance(error, ConnectionError):
        return StorageError(
            f"The S3 endpoint {where} could not be reached while {doing}. "
            "Check the endpoint URL in the storage location and that the S3 service is running."
        )
    if isinstance(error, HTTPClientError):
        return StorageError(
            f"The connection to the S3 endpoint {where} broke while {doing} ({error}). "
            "Check that the S3 service is running and reachable, then try again."
        )
    if isinstance(error, ClientError):
        code = error_code(error)
        if code in NO_BUCKET_CODES:
            return no_bucket(location)
        if code in DENIED_CODES:
            return StorageError(
                f"{where} refused access to the bucket {bucket} ({code}) while {doing}. Check the access "
                "key and secret, and that they may read and write this bucket."
            )
        message = error.response.get("Error", {}).get("Message", "")
        return StorageError(
            f"{where} answered {code or 'an error'} {message} while {doing} in the bucket {bucket}. "
            "Check the endpoint, the bucket and the credentials in the storage location."
        )
    return StorageError(
        f"Talking to the S3 endpoint {where} failed while {doing}: {error}. "
        "Check the endpoint, the bucket and the credentials in the storage location."
    )


@contextlib.contextmanager
def s3_errors(location: S3Location, doing: str) -> Iterator[None]:
    """Turn any botocore failure inside the block into a StorageError that says what to check."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise explain(error, location, doing) from error
