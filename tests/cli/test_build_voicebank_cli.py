"""A voicebank maker packages a folder of recordings as a zip that UTAU and OpenUTAU install."""

import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from cli_runner import run_cli

from voicestudio.align.reference import ReferenceUnavailable, synthesize_japanese
from voicestudio.oto import parse_oto_ini

SUNG = {"a.wav": "ア", "ka.wav": "カ", "sa.wav": "サ"}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three CV takes at the synthesizer's 48 kHz, without an oto.ini."""
    folder = tmp_path_factory.mktemp("recordings")
    try:
        with ThreadPoolExecutor(3) as pool:
            spoken = list(pool.map(synthesize_japanese, SUNG.values()))
    except ReferenceUnavailable as e:
        pytest.skip(str(e))
    for name, speech in zip(SUNG, spoken, strict=True):
        take = np.concatenate([np.zeros(speech.sample_rate_hz // 2, dtype=np.float32), speech.samples])
        sf.write(folder / name, take, speech.sample_rate_hz, subtype="PCM_16")
    return folder


def test_a_folder_without_oto_ini_gets_one_generated_into_the_zip(recordings: Path, tmp_path: Path) -> None:
    out = tmp_path / "mybank.zip"
    result = run_cli(
        "build-voicebank", recordings, "--name", "mybank", "--out", out, "--author", "me", log_dir=tmp_path
    )
    assert result.exit_code == 0, result.output
    assert "has no oto.ini: generating one" in result.output
    assert "3 oto entries, 3 recordings" in result.output and "Resampled to 44.1 kHz: a.wav" in result.output
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        oto = parse_oto_ini(archive.read("mybank/oto.ini"))
        rate_hz = sf.info(archive.open("mybank/ka.wav")).samplerate
    assert {"install.txt", "mybank/character.txt", "mybank/a.wav", "mybank/sa.wav"} <= names
    assert [(e.wav_name, e.alias) for e in oto.entries] == [
        ("a.wav", "a"),
        ("ka.wav", "ka"),
        ("sa.wav", "sa"),
    ]
    assert oto.skipped == () and rate_hz == 44_100
    assert all(500.0 <= e.offset_ms + e.preutterance_ms <= 1200.0 for e in oto.entries), oto.entries
    assert not (recordings / "oto.ini").exists()  # the singer's folder is left as it was


def test_a_failing_build_keeps_the_old_zip_and_says_why(recordings: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "ka.wav").write_bytes((recordings / "ka.wav").read_bytes())
    (folder / "oto.ini").write_bytes(
        b"ka.wav=ka,500,200,-300,150,50\r\nthis line is no entry\r\ngone.wav=ke,500,200,-300,150,50\r\n"
    )
    out = tmp_path / "bank.zip"
    out.write_bytes(b"last week's bank")
    result = run_cli("build-voicebank", folder, "--name", "bank", "--out", out, log_dir=tmp_path)
    assert result.exit_code == 2, result.output
    assert "Read 2 entries" in result.output and "Skipped 1 line that is not an entry" in result.output
    assert "gone.wav" in result.output and "missing" in result.output and "Traceback" not in result.output
    assert out.read_bytes() == b"last week's bank"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("bank")) == ["bank", "bank.zip"]
