"""Why a training chunk on a rented GPU did not come back, each with what the operator can do about it."""

from urllib.parse import urlsplit, urlunsplit

from voicestudio.errors import VoicestudioError


class RemoteGpuError(VoicestudioError):
    """A rented-GPU run that could not be submitted, followed or finished; the message says what to do."""


class RemoteAuthRejected(RemoteGpuError):
    """The service refused the configured API key or token (401/403)."""


class RemoteUnreachable(RemoteGpuError):
    """The service did not answer, or kept answering 5xx, after every retry."""


class RemoteBadAnswer(RemoteGpuError):
    """The service answered something that is not the documented JSON (a wrong URL, a proxy page)."""


class RemoteRunFailed(RemoteGpuError):
    """The chunk ran and failed on the remote side (FAILED), with the endpoint's own message."""


class RemoteTimedOut(RemoteGpuError):
    """The chunk did not finish in time (the studio's limit or the service's); it was cancelled."""


class RemoteRunCancelled(RemoteGpuError):
    """The chunk was cancelled: by the user (the studio cancelled it) or on the service's side."""


class RemoteInputError(RemoteGpuError):
    """Inside the endpoint: the dataset or checkpoint could not be fetched, or the result not stored."""


def without_secrets(url: str) -> str:
    """`url` without its query and user info, for messages: a presigned signature must never be logged."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
