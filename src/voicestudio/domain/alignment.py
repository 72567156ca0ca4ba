"""Where each phone of a recording starts and ends."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PhoneSegment:
    """One phone between `start_ms` and `end_ms` of its file; `score` 0..1 is the aligner's confidence."""

    phone: str
    start_ms: float
    end_ms: float
    score: float = 1.0

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True)
class Alignment:
    """The phone segments of one file, in order, without gaps or overlaps."""

    segments: tuple[PhoneSegment, ...]

    @property
    def phones(self) -> tuple[str, ...]:
        return tuple(s.phone for s in self.segments)

    @property
    def end_ms(self) -> float:
        return self.segments[-1].end_ms if self.segments else 0.0
