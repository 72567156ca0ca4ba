"""Which function computes each kind of job; modules register their kinds when imported."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from voicestudio.domain.jobs import JsonObject
from voicestudio.jobs.errors import UnknownJobKind

if TYPE_CHECKING:
    from voicestudio.jobs.context import JobContext

JobFunction = Callable[[JsonObject, "JobContext"], JsonObject]
"""payload (JSON) and context in, result (JSON) out; raise VoicestudioError for a message the user reads."""

_KINDS: dict[str, JobFunction] = {}


def register(kind: str, fn: JobFunction) -> JobFunction:
    """Make `fn` the function for jobs of `kind`; registering the same function again is harmless."""
    known = _KINDS.get(kind)
    if known is not None and known is not fn:
        raise ValueError(
            f"job kind {kind!r} is already registered to {known.__module__}.{known.__qualname__}"
        )
    _KINDS[kind] = fn
    return fn


def job_kind(kind: str) -> Callable[[JobFunction], JobFunction]:
    """`register` as a decorator: `@job_kind("oto.generate")` above the function."""

    def decorate(fn: JobFunction) -> JobFunction:
        return register(kind, fn)

    return decorate


def job_function(kind: str) -> JobFunction:
    """The function registered for `kind`; UnknownJobKind if none is."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise UnknownJobKind(
            f"No worker here can run {kind!r} jobs. Start a worker that loads the module defining it."
        ) from None


def registered_kinds() -> frozenset[str]:
    """Every kind registered in this process."""
    return frozenset(_KINDS)
