"""A voicebank maker runs `voicestudio oto` on a folder of recordings and opens the oto.ini in UTAU."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from cli_runner import run_cli

from voicestudio.align.reference import ReferenceUnavailable, synthesize_japanese
from voicestudio.audio.io import resample
from voicestudio.oto import read_oto_ini
from voicestudio.oto.phones import is_pause, vowel_core

RATE_HZ = 44_100
LEAD_S = 0.6  # the singer waits for the count-in before singing
VOWEL_ONSET_MAX_ERROR_MS = 30.0
SUNG = {"ka.wav": "カ", "しゃ.wav": "シャ", "wo.wav": "ウォ"}


@dataclass(frozen=True)
class Folder:
    path: Path
    vowel_start_ms: dict[str, float]  # per sung file


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Folder:
    """Three CV takes after a silent lead-in, and one take where the microphone was muted."""
    folder = tmp_path_factory.mktemp("reclist")
    try:
        with ThreadPoolExecutor(3) as pool:
            spoken = list(pool.map(synthesize_japanese, SUNG.values()))
    except ReferenceUnavailable as e:
        pytest.skip(str(e))
    truth: dict[str, float] = {}
    for name, speech in zip(SUNG, spoken, strict=True):
        take = np.concatenate(
            [np.zeros(round(LEAD_S * RATE_HZ)), resample(speech.samples, speech.sample_rate_hz, RATE_HZ)]
        )
        sf.write(folder / name, take, RATE_HZ, subtype="PCM_16")
        vowel = next(s for s in speech.alignment.segments if not is_pause(s.phone) and vowel_core(s.phone))
        truth[name] = vowel.start_ms + 1000.0 * LEAD_S
    sf.write(folder / "ta.wav", np.zeros(RATE_HZ), RATE_HZ, subtype="PCM_16")
    return Folder(folder, truth)


def test_a_folder_becomes_an_oto_ini_whose_notes_start_on_the_vowels(
    recordings: Folder, tmp_path: Path
) -> None:
    result = run_cli("oto", recordings.path, log_dir=tmp_path)
    assert result.exit_code == 0, result.output
    oto = read_oto_ini(recordings.path / "oto.ini")
    assert oto.encoding == "cp932" and oto.skipped == ()
    assert [(e.wav_name, e.alias) for e in oto.entries] == [
        ("ka.wav", "ka"),
        ("ta.wav", "ta"),
        ("wo.wav", "wo"),
        ("しゃ.wav", "しゃ"),
    ]
    for entry in oto.entries:
        if entry.wav_name in recordings.vowel_start_ms:
            error_ms = abs(
                entry.offset_ms + entry.preutterance_ms - recordings.vowel_start_ms[entry.wav_name]
            )
            assert error_ms <= VOWEL_ONSET_MAX_ERROR_MS, (entry, error_ms)
    muted = next(e for e in oto.entries if e.wav_name == "ta.wav")
    assert (muted.offset_ms, muted.cutoff_ms) == (0.0, 0.0)
    assert "Wrote 4 lines for 4 recordings" in result.output
    assert "1 recording could not be used" in result.output
    assert "ta.wav" in result.output and "silent" in result.output and "Traceback" not in result.output


def test_a_stray_file_stops_the_run_and_keeps_the_old_oto_ini(recordings: Folder, tmp_path: Path) -> None:
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "ka.wav").write_bytes((recordings.path / "ka.wav").read_bytes())
    (folder / "hello world.wav").write_bytes((recordings.path / "ka.wav").read_bytes())
    old = b"ka.wav=ka,100,200,-300,150,50\r\n"
    (folder / "oto.ini").write_bytes(old)
    result = run_cli("oto", folder, "--reclist", "cv", log_dir=tmp_path)
    assert result.exit_code == 2, result.output
    assert "hello world.wav" in result.output and "not named by what they say" in result.output
    assert "Traceback" not in result.output
    assert (folder / "oto.ini").read_bytes() == old
    assert sorted(p.name for p in folder.iterdir()) == ["hello world.wav", "ka.wav", "oto.ini"]


def test_a_folder_without_recordings_says_what_to_record(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    result = run_cli("oto", folder, log_dir=tmp_path)
    assert result.exit_code == 2
    assert "has no .wav files" in result.output and "Traceback" not in result.output
    assert list(folder.iterdir()) == []
