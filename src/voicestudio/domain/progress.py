"""How far along long work is; passed to `on_progress` callbacks, never printed."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Progress:
    """`done` of `total` items of the named stage; `item` names the one just finished."""

    stage: str
    done: int
    total: int
    item: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]


def ignore_progress(_: Progress) -> None:
    """A callback for callers that do not show progress."""
