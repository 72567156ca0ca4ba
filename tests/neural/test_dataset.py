"""A singer's takes become piper's training set, or a message that says what is missing."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicestudio.audio.analysis import integrated_loudness_lufs, leading_silence_ms
from voicestudio.audio.io import AudioClip
from voicestudio.domain.language import Language
from voicestudio.neural.dataset import load_dataset
from voicestudio.neural.errors import MissingTranscript, NotEnoughAudio
from voicestudio.neural.piper import PiperEngine
from voicestudio.neural.values import Dataset, Utterance


def test_takes_become_piper_training_layout_at_22050_hz(english_dataset: Dataset) -> None:
    rows = english_dataset.csv_path.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "0001|The quick brown fox jumps over the lazy dog."
    assert len(rows) == english_dataset.utterance_count == 4
    wavs = sorted(english_dataset.wav_dir.glob("*.wav"))
    assert [w.name for w in wavs] == ["0001.wav", "0002.wav", "0003.wav", "0004.wav"]
    assert {sf.info(str(w)).samplerate for w in wavs} == {22050}
    assert 5.0 < english_dataset.duration_s < 15.0
    # piper's feature cache: phoneme ids, audio and linear spectrogram of every row
    assert len(list(english_dataset.cache_dir.glob("*.phonemes.pt"))) == 4
    assert len(list(english_dataset.cache_dir.glob("*.spec.pt"))) == 4
    assert load_dataset(english_dataset.root_dir) == english_dataset


def test_takes_are_trimmed_and_brought_to_one_loudness(english_dataset: Dataset) -> None:
    for wav in sorted(english_dataset.wav_dir.glob("*.wav")):
        samples, rate = sf.read(str(wav), dtype="float32")
        assert leading_silence_ms(samples, rate) <= 200.0
        assert integrated_loudness_lufs(samples, rate) == pytest.approx(-20.0, abs=1.5)
        assert float(np.max(np.abs(samples))) <= 0.9


def test_no_takes_asks_for_the_paragraph_set(tmp_path: Path) -> None:
    with pytest.raises(NotEnoughAudio) as caught:
        PiperEngine().prepare([], Language.en, tmp_path / "dataset")
    assert "no takes" in caught.value.message
    assert "en-paragraph" in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_twenty_seconds_of_audio_is_refused_with_the_amount_needed(tmp_path: Path) -> None:
    tone = 0.3 * np.sin(2 * np.pi * 220.0 * np.arange(5 * 22050) / 22050).astype(np.float32)
    takes = [Utterance(AudioClip(tone, 22050), f"Sentence number {n}.") for n in range(4)]
    with pytest.raises(NotEnoughAudio) as caught:
        PiperEngine().prepare(takes, Language.en, tmp_path / "dataset")
    message = caught.value.message
    assert "at least 1 min" in message
    assert "20." in message  # what the four 5 s takes hold, trimmed edges kept
    assert "voicestudio prompts show en-paragraph / ja-paragraph" in message
    assert list(tmp_path.iterdir()) == []


def test_a_take_without_transcript_is_named_before_any_work(
    english_takes: list[Utterance], tmp_path: Path
) -> None:
    takes = [*english_takes[:2], Utterance(english_takes[2].audio, "  ", name="take_03")]
    with pytest.raises(MissingTranscript) as caught:
        PiperEngine(min_duration_s=1.0).prepare(takes, Language.en, tmp_path / "dataset")
    assert caught.value.message.startswith("take_03: this take has no transcript")
    assert list(tmp_path.iterdir()) == []
