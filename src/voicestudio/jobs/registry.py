"""Which function computes each kind of job, and on which queue it waits; modules register their kinds when
imported."""

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Final

from voicestudio.domain.jobs import JsonObject
from voicestudio.jobs.errors import UnknownJobKind

if TYPE_CHECKING:
    from voicestudio.jobs.context import JobContext

JobFunction = Callable[[JsonObject, "JobContext"], JsonObject]
"""payload (JSON) and context in, result (JSON) out; raise VoicestudioError for a message the user reads."""

CPU_QUEUE: Final = "cpu"  # any machine can run these
GPU_QUEUE: Final = "gpu"  # only workers on a GPU host listen here (training)
QUEUES: Final = (CPU_QUEUE, GPU_QUEUE)

_KINDS: dict[str, JobFunction] = {}
_QUEUES: dict[str, str] = {}


def register(kind: str, fn: JobFunction, *, queue: str = CPU_QUEUE) -> JobFunction:
    """Make `fn` the function for jobs of `kind`, waiting on `queue`; registering it again is harmless."""
    known = _KINDS.get(kind)
    if known is not None and known is not fn:
        raise ValueError(
            f"job kind {kind!r} is already registered to {known.__module__}.{known.__qualname__}"
        )
    if queue not in QUEUES:
        raise ValueError(f"job kind {kind!r}: queue {queue!r} is not one of {', '.join(QUEUES)}")
    _KINDS[kind] = fn
    _QUEUES[kind] = queue
    return fn


def job_kind(kind: str, *, queue: str = CPU_QUEUE) -> Callable[[JobFunction], JobFunction]:
    """`register` as a decorator: `@job_kind("oto.generate")` above the function."""

    def decorate(fn: JobFunction) -> JobFunction:
        return register(kind, fn, queue=queue)

    return decorate


def job_function(kind: str) -> JobFunction:
    """The function registered for `kind`; UnknownJobKind if none is."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise UnknownJobKind(
            f"No worker here can run {kind!r} jobs. Start a worker that loads the module defining it."
        ) from None


def job_queue(kind: str) -> str:
    """The queue a job of `kind` waits on: the one it was registered with, the CPU queue if unknown here."""
    return _QUEUES.get(kind, CPU_QUEUE)


def registered_kinds(queues: Collection[str] | None = None) -> frozenset[str]:
    """Every kind registered in this process (only those waiting on `queues`, if given)."""
    if queues is None:
        return frozenset(_KINDS)
    return frozenset(kind for kind in _KINDS if _QUEUES[kind] in queues)
