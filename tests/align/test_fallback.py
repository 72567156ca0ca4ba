"""A second engine takes over when the first cannot align a take or is unsure of its alignment."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from fixtures.speech import SpeechFixture
from voicestudio.align.aligner import AlignmentFailed
from voicestudio.align.fallback import FallbackAligner, mean_phone_score
from voicestudio.align.sphinx import sphinx_or_dtw
from voicestudio.audio.io import read_audio
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.language import Language

TAKE = np.full(8_000, 0.1, dtype=np.float32)  # half a second at 16 kHz
RATE_HZ = 16_000


@dataclass(frozen=True, slots=True)
class EvenAligner:
    """Spreads the letters of the text evenly over the take, each scored `score`, between silences."""

    score: float
    silence_score: float = 1.0

    def align(
        self, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str, language: Language
    ) -> Alignment:
        letters = [c for c in text if c.isalpha()]
        edges = np.linspace(0.0, 1000.0 * len(samples) / sample_rate_hz, len(letters) + 3)
        names = ["sil", *letters, "sil"]
        scores = [self.silence_score, *[self.score] * len(letters), self.silence_score]
        return Alignment(
            tuple(
                PhoneSegment(name, float(edges[i]), float(edges[i + 1]), score)
                for i, (name, score) in enumerate(zip(names, scores, strict=True))
            )
        )


@dataclass(frozen=True, slots=True)
class RefusingAligner:
    """An engine that cannot align anything, as the sphinx engine refuses Japanese."""

    message: str = "This engine knows only English."

    def align(
        self, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str, language: Language
    ) -> Alignment:
        raise AlignmentFailed(self.message)


def test_a_failing_primary_hands_the_take_to_the_fallback() -> None:
    aligner = FallbackAligner(RefusingAligner(), EvenAligner(score=0.3), min_score=0.5)

    choice = aligner.choose(TAKE, RATE_HZ, "abc", Language.ja)

    assert choice.fell_back
    assert "only English" in choice.reason
    assert [s.score for s in choice.alignment.segments] == [1.0, 0.3, 0.3, 0.3, 1.0]
    assert aligner.align(TAKE, RATE_HZ, "abc", Language.ja) == choice.alignment


def test_an_unsure_primary_hands_the_take_to_the_fallback() -> None:
    aligner = FallbackAligner(EvenAligner(score=0.2), EvenAligner(score=0.9), min_score=0.5)

    choice = aligner.choose(TAKE, RATE_HZ, "abcd", Language.en)

    assert choice.fell_back
    assert "0.20 is below 0.50" in choice.reason
    assert mean_phone_score(choice.alignment) == pytest.approx(0.9)


def test_a_sure_primary_is_kept() -> None:
    aligner = FallbackAligner(EvenAligner(score=0.6), EvenAligner(score=0.9), min_score=0.5)

    choice = aligner.choose(TAKE, RATE_HZ, "abcd", Language.en)

    assert not choice.fell_back and choice.reason == ""
    assert mean_phone_score(choice.alignment) == pytest.approx(0.6)


def test_silences_do_not_count_towards_the_score() -> None:
    sure_only_of_silence = EvenAligner(score=0.1, silence_score=1.0).align(TAKE, RATE_HZ, "ab", Language.en)

    assert mean_phone_score(sure_only_of_silence) == pytest.approx(0.1)


def test_when_both_engines_fail_the_fallbacks_message_reaches_the_user() -> None:
    aligner = FallbackAligner(RefusingAligner(), RefusingAligner("Record the take again."), min_score=0.5)

    with pytest.raises(AlignmentFailed, match="Record the take again"):
        aligner.align(TAKE, RATE_HZ, "abc", Language.en)


def test_sphinx_hands_a_japanese_take_to_dtw(ja_speech: SpeechFixture) -> None:
    clip = read_audio(ja_speech.wav_path)

    choice = sphinx_or_dtw().choose(clip.samples, clip.sample_rate_hz, ja_speech.text, Language.ja)

    assert choice.fell_back and "only English" in choice.reason
    assert [s.phone for s in choice.alignment.segments][:4] == ["sil", "k", "o", "N"]
