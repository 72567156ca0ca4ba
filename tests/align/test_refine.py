"""A singer's whole reclist refines its `dtw` alignments with phone models of the singer's own voice."""

import itertools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from fixtures.stretch import PAD_MS, WORLD_RATE_HZ, stretched_take
from voicestudio.align.aligner import AlignmentFailed
from voicestudio.align.dtw import HOP_MS, DtwAligner
from voicestudio.align.metrics import matching_start_errors_ms
from voicestudio.align.reference import ReferenceUnavailable, synthesize_japanese
from voicestudio.align.refine import RefineSettings, refine_alignments
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language

# Five CV files and five VCV strings, as a singer would record them; re-spoken 15 % slower, 3 semitones
# higher, with 0.5 s of faint noise around each.
RECLIST = (
    "ひ", "さ", "て", "な", "き",
    "あかあきあく", "あさあしあす", "いないにいぬ", "おがおごおん", "うまうみうむ",
)  # fmt: skip
TEMPO_FACTOR = 1.15
SEMITONES = 3.0


@dataclass(frozen=True, slots=True, eq=False)
class Reclist:
    """The takes, the dtw engine's alignments of them and the true alignments (in the synthesizer's time)."""

    takes: list[tuple[npt.NDArray[np.float32], int]]
    dtw: list[Alignment]
    truth: list[Alignment]

    def errors_ms(self, alignments: list[Alignment]) -> npt.NDArray[np.float64]:
        return np.concatenate(
            [
                matching_start_errors_ms(found, truth, TEMPO_FACTOR, PAD_MS)
                for found, truth in zip(alignments, self.truth, strict=True)
            ]
        )


@pytest.fixture(scope="session")
def reclist() -> Reclist:
    try:
        with ThreadPoolExecutor(4) as pool:
            speech = list(pool.map(synthesize_japanese, RECLIST))
    except ReferenceUnavailable as e:
        pytest.skip(str(e))
    takes = [
        (stretched_take(s.samples, s.sample_rate_hz, TEMPO_FACTOR, SEMITONES), WORLD_RATE_HZ) for s in speech
    ]
    aligner = DtwAligner()
    dtw = [
        aligner.align(samples, rate, text, Language.ja)
        for (samples, rate), text in zip(takes, RECLIST, strict=True)
    ]
    return Reclist(takes, dtw, [s.alignment for s in speech])


@pytest.fixture(scope="session")
def refined(reclist: Reclist) -> list[Alignment]:
    return refine_alignments(reclist.takes, reclist.dtw)


def duration_ms(take: tuple[npt.NDArray[np.float32], int]) -> float:
    samples, sample_rate_hz = take
    return 1000.0 * len(samples) / sample_rate_hz


def test_every_take_keeps_its_phones_in_order_from_start_to_end(
    reclist: Reclist, refined: list[Alignment]
) -> None:
    assert len(refined) == len(reclist.takes)
    for found, dtw, take in zip(refined, reclist.dtw, reclist.takes, strict=True):
        assert found.phones == dtw.phones
        segments = found.segments
        assert segments[0].start_ms == 0.0
        assert segments[-1].end_ms == pytest.approx(duration_ms(take))
        assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(segments))
        assert all(s.end_ms > s.start_ms for s in segments)
        assert all(0.0 <= s.score <= 1.0 for s in segments)


def test_refined_boundaries_stay_within_the_window_around_the_dtw_ones(
    reclist: Reclist, refined: list[Alignment]
) -> None:
    window_ms = RefineSettings().window_ms
    moved_ms = np.concatenate(
        [
            np.abs(
                np.array([s.start_ms for s in found.segments]) - np.array([s.start_ms for s in dtw.segments])
            )
            for found, dtw in zip(refined, reclist.dtw, strict=True)
        ]
    )
    assert moved_ms.max() <= window_ms + HOP_MS
    assert np.count_nonzero(moved_ms) >= 10  # measured: 23 of 74 segment starts move, by up to 27.5 ms


def test_the_reclist_is_not_aligned_worse_than_by_dtw(reclist: Reclist, refined: list[Alignment]) -> None:
    before = reclist.errors_ms(reclist.dtw)
    after = reclist.errors_ms(refined)

    assert len(after) == len(before)
    # Measured on these 54 boundaries: median 5.1 → 6.6 ms, p90 19.3 → 16.3 ms, mean 8.1 → 8.3 ms.
    assert np.median(after) <= np.median(before) + 2.5
    assert np.percentile(after, 90) <= np.percentile(before, 90) + 5.0
    assert np.mean(after) <= np.mean(before) + 2.0


def test_a_phone_seen_once_in_the_reclist_stays_where_dtw_put_it(
    reclist: Reclist, refined: list[Alignment]
) -> None:
    counts = Counter(s.phone for a in reclist.dtw for s in a.segments)
    once = {phone for phone, count in counts.items() if count == 1}
    assert once  # "h", "t", "e", "sh" and "N" appear once each
    for found, dtw in zip(refined, reclist.dtw, strict=True):
        for new, old in zip(found.segments, dtw.segments, strict=True):
            if new.phone in once:
                assert (new.start_ms, new.end_ms, new.score) == (old.start_ms, old.end_ms, old.score)


def test_a_single_take_refines_only_the_phones_it_repeats(reclist: Reclist) -> None:
    take, dtw = reclist.takes[5], reclist.dtw[5]  # あかあきあく: a and k thrice, i and u once

    (found,) = refine_alignments([take], [dtw])

    assert found.phones == dtw.phones
    for new, old in zip(found.segments, dtw.segments, strict=True):
        if new.phone in ("i", "u"):
            assert (new.start_ms, new.end_ms) == (old.start_ms, old.end_ms)
    assert found.segments[-1].end_ms == pytest.approx(duration_ms(take))


def test_no_rounds_give_the_dtw_alignments_back(reclist: Reclist) -> None:
    assert refine_alignments(reclist.takes[:3], reclist.dtw[:3], iterations=0) == reclist.dtw[:3]


def test_takes_and_alignments_that_do_not_belong_together_get_a_clear_error(reclist: Reclist) -> None:
    with pytest.raises(AlignmentFailed, match="2 takes came with 1 alignments"):
        refine_alignments(reclist.takes[:2], reclist.dtw[:1])
    with pytest.raises(AlignmentFailed, match=r"Take 1 lasts .* but its alignment ends"):
        refine_alignments([reclist.takes[0]], [reclist.dtw[5]])
