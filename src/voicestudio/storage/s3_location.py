"""The `s3://bucket/prefix?endpoint_url=...` storage location, read into one frozen value.

Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an
instance role); `access_key_id` / `secret_access_key` in the query are for local setups only, since a
location string ends up in logs and process lists where environment variables do not.
"""

from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qsl, urlsplit

from voicestudio.storage.blobs import StorageError

DEFAULT_URL_EXPIRY_S: Final = 3600
MAX_URL_EXPIRY_S: Final = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
DEFAULT_MAX_ATTEMPTS: Final = 3
QUERY_KEYS: Final = (
    "endpoint_url",
    "region",
    "access_key_id",
    "secret_access_key",
    "create_bucket",
    "addressing_style",
    "url_expiry_s",
    "public_endpoint_url",
    "max_attempts",
)
AddressingStyle = Literal["auto", "path", "virtual"]
STYLES: Final[dict[str, AddressingStyle]] = {"auto": "auto", "path": "path", "virtual": "virtual"}
TRUE_WORDS: Final = {"1", "true", "yes", "on"}
FALSE_WORDS: Final = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class S3Location:
    """Where blobs live in S3 and how to reach it.

    `prefix` is empty or ends with "/"; `public_endpoint_url` is the host browsers and rented GPUs use
    for presigned URLs when it differs from the one the servers use (e.g. inside a container network).
    """

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)  # never in logs or tracebacks
    create_bucket: bool = False
    addressing_style: AddressingStyle = "auto"
    url_expiry_s: int = DEFAULT_URL_EXPIRY_S
    public_endpoint_url: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    @property
    def endpoint_name(self) -> str:
        """The endpoint as messages name it."""
        return self.endpoint_url or f"AWS S3 ({self.region or 'default region'})"


def parse_s3_location(text: str) -> S3Location:
    """`s3://bucket/prefix?endpoint_url=...&region=...` as an S3Location; StorageError says what is wrong."""
    parts = urlsplit(text)
    if parts.scheme != "s3" or not parts.netloc:
        raise _bad(text, "it must start with s3://<bucket>")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - set(QUERY_KEYS))
    if unknown:
        raise _bad(text, f"unknown setting {', '.join(unknown)}; the known ones are {', '.join(QUERY_KEYS)}")
    prefix = parts.path.strip("/")
    endpoint_url = query.get("endpoint_url") or None
    # Path style is what MinIO, SeaweedFS and R2 all answer; AWS picks its own unless told.
    style_word = query.get("addressing_style") or ("path" if endpoint_url else "auto")
    style = STYLES.get(style_word)
    if style is None:
        raise _bad(text, f"addressing_style must be auto, path or virtual, not {style_word!r}")
    if bool(query.get("access_key_id")) != bool(query.get("secret_access_key")):
        raise _bad(text, "access_key_id and secret_access_key go together; give both or neither")
    url_expiry_s = _number(text, query, "url_expiry_s", DEFAULT_URL_EXPIRY_S, MAX_URL_EXPIRY_S)
    return S3Location(
        bucket=parts.netloc,
        prefix=f"{prefix}/" if prefix else "",
        endpoint_url=endpoint_url,
        region=query.get("region") or None,
        access_key_id=query.get("access_key_id") or None,
        secret_access_key=query.get("secret_access_key") or None,
        create_bucket=_flag(text, query, "create_bucket"),
        addressing_style=style,
        url_expiry_s=url_expiry_s,
        public_endpoint_url=query.get("public_endpoint_url") or None,
        max_attempts=_number(text, query, "max_attempts", DEFAULT_MAX_ATTEMPTS, 20),
    )


def _flag(text: str, query: dict[str, str], name: str) -> bool:
    word = query.get(name, "").lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _bad(text, f"{name} must be 1 or 0, not {word!r}")


def _number(text: str, query: dict[str, str], name: str, default: int, most: int) -> int:
    if not query.get(name):
        return default
    try:
        value = int(query[name])
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise _bad(text, f"{name} must be a whole number from 1 to {most}, not {query[name]!r}")
    return value


def _bad(text: str, why: str) -> StorageError:
    shown = text.split("?", 1)[0]  # the query may hold a secret key
    return StorageError(
        f"The storage location {shown} is not usable: {why}. "
        "Write it as s3://<bucket>/<prefix>?endpoint_url=<url>&region=<region>."
    )
