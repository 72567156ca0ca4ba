"""Session-wide test material: synthesized speech with its true phone times, built once per run."""

from pathlib import Path

import pytest

from fixtures.speech import SpeechFixture, english_speech, japanese_morae, japanese_speech, natural_english

pytest_plugins = ["services.seaweed"]  # a real S3 server (SeaweedFS) for the tests that ask for one

JA_SENTENCE = "こんにちは、今日はいい天気ですね。"
JA_MORAE = ["か", "き", "しゃ"]
EN_SENTENCE = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every synthesized utterance of the session."""
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def ja_speech(speech_dir: Path) -> SpeechFixture:
    """A natural Japanese sentence (HTS, 48 kHz) with a pause at its comma."""
    return japanese_speech(JA_SENTENCE, speech_dir, "ja_sentence")


@pytest.fixture(scope="session")
def ja_cv_speech(speech_dir: Path) -> dict[str, SpeechFixture]:
    """Isolated morae as a CV reclist records them: か → ka.wav, き → ki.wav, しゃ → sha.wav."""
    return japanese_morae(JA_MORAE, speech_dir / "ja_cv")


@pytest.fixture(scope="session")
def en_speech(speech_dir: Path) -> SpeechFixture:
    """An English pangram spoken by eSpeak NG (22.05 kHz)."""
    return english_speech(EN_SENTENCE, speech_dir, "en_sentence")


@pytest.fixture(scope="session")
def en_natural_speech(speech_dir: Path) -> SpeechFixture:
    """The same pangram in a real neural voice (piper `joe`, 22.05 kHz)."""
    return natural_english(EN_SENTENCE, speech_dir, "en_natural_sentence")
