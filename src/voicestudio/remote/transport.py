"""JSON over HTTPS to a rented-GPU service, with bounded retries of what is worth retrying.

The standard library's urllib only: the studio's runtime dependencies carry no HTTP client.
Credentials live in the headers, which are never logged nor put in a message.
"""

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from voicestudio.remote.errors import RemoteAuthRejected, RemoteBadAnswer, RemoteUnreachable, without_secrets

_LOG = logging.getLogger("voicestudio.remote")
RETRIED_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
_MAX_ERROR_TEXT = 300
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often one request is tried again after a 5xx, a 429 or a dropped connection, and how long
    to wait between tries (doubling from `first_delay_s`, at most `max_delay_s`)."""

    attempts: int = 5
    first_delay_s: float = 0.5
    max_delay_s: float = 8.0
    request_timeout_s: float = 30.0

    def delay_s(self, failed_attempts: int) -> float:
        """The wait after the `failed_attempts`-th failure (1, 2, …)."""
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** (failed_attempts - 1)))


DEFAULT_RETRY = RetryPolicy()


class TryAgain(Exception):
    """Raised by one try of `with_retries` for a failure worth another try; its text says what went wrong."""


def with_retries(
    once: Callable[[], T], policy: RetryPolicy, doing: str, give_up: Callable[[str], Exception]
) -> T:
    """`once()`, tried again after a TryAgain, a 429/5xx or a dropped connection, waiting `policy.delay_s`
    between tries; raises `give_up(what went wrong)` once the tries are spent or on another HTTP error.
    `doing` names the request in the log (never with a URL's query: it may hold a signature)."""
    problem = ""
    for attempt in range(1, policy.attempts + 1):
        try:
            return once()
        except TryAgain as again:
            problem = str(again)
        except urllib.error.HTTPError as answer:
            problem = f"the server answered {answer.code} {answer.reason}"
            if answer.code not in RETRIED_STATUSES:
                break
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            problem = f"the connection failed ({reason})"
        if attempt < policy.attempts:
            delay_s = policy.delay_s(attempt)
            _LOG.warning(
                "%s: %s; trying again in %.1f s (%d of %d)",
                doing,
                problem,
                delay_s,
                attempt + 1,
                policy.attempts,
            )
            time.sleep(delay_s)
    raise give_up(problem)


@dataclass(frozen=True, slots=True)
class JsonAnswer:
    """A response the service meant: 2xx or a 4xx other than 401/403, with its JSON body (or None)."""

    status: int
    body: Any


class JsonHttp:
    """Requests to one service's base URL with its auth headers; `describe_auth` finishes a 401 message."""

    def __init__(
        self,
        service: str,
        base_url: str,
        headers: Mapping[str, str],
        describe_auth: str,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._describe_auth = describe_auth
        self.retry = retry

    def __repr__(self) -> str:
        return f"JsonHttp({self.service!r}, {without_secrets(self.base_url)!r})"  # no headers: they hold keys

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> JsonAnswer:
        """Send one request, retrying transient failures; RemoteAuthRejected on 401/403,
        RemoteUnreachable once the retries are spent, RemoteBadAnswer for a body that is not JSON."""
        url = f"{self.base_url}{path}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json", **self._headers}
        if data is not None:
            headers["Content-Type"] = "application/json"

        def once() -> JsonAnswer:
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.retry.request_timeout_s) as response:
                    return JsonAnswer(response.status, _parse(self.service, url, response.read()))
            except urllib.error.HTTPError as answer:
                text = answer.read()
                if answer.code in (401, 403):
                    raise RemoteAuthRejected(
                        f"{self.service} refused the credentials ({answer.code}) at {without_secrets(url)}. "
                        f"{self._describe_auth}"
                    ) from None
                if answer.code not in RETRIED_STATUSES:
                    return JsonAnswer(answer.code, _parse_lenient(text))
                raise TryAgain(f"it answered {answer.code} {_snippet(text)}".rstrip()) from None

        def unreachable(problem: str) -> RemoteUnreachable:
            return RemoteUnreachable(
                f"{self.service} at {without_secrets(url)} did not answer after {self.retry.attempts} tries: "
                f"{problem}. Check the endpoint URL and the service's status page, then train again."
            )

        return with_retries(once, self.retry, f"{self.service} {method} {without_secrets(url)}", unreachable)


def _parse(service: str, url: str, raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RemoteBadAnswer(
            f"{service} at {without_secrets(url)} answered with something that is not JSON "
            f"({_snippet(raw)}). Check that the endpoint URL points at the deployed endpoint."
        ) from None


def _parse_lenient(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"error": _snippet(raw)}


def _snippet(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip().replace("\n", " ")
    return text[:_MAX_ERROR_TEXT]
