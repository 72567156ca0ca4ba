"""The recordings of a tiny CV voicebank: three morae spoken by HTS, saved at 48 kHz as float."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicebank.cv_bank import MORAE, QUIET_GAIN, QUIET_MORA, RECORDED_RATE_HZ


@pytest.fixture(scope="session")
def cv_recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """か.wav, き.wav, さ.wav: pyopenjtalk's 48 kHz speech scaled from int16 range to float32, as float."""
    import pyopenjtalk

    folder = tmp_path_factory.mktemp("cv_recordings")
    for kana in MORAE:
        samples, rate_hz = pyopenjtalk.tts(kana)
        assert rate_hz == RECORDED_RATE_HZ
        gain = QUIET_GAIN if kana == QUIET_MORA else 1.0
        scaled = (np.asarray(samples) / 32768.0 * gain).astype(np.float32)
        sf.write(folder / f"{kana}.wav", scaled, rate_hz, subtype="FLOAT")
    return folder
