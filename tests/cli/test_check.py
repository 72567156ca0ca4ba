"""A singer runs `voicestudio check` on a folder of takes and reads what is wrong with each and what to do."""

from pathlib import Path

import pytest
from cli_runner import run_cli

from audio import damaged


@pytest.fixture(scope="session")
def takes_folder(tmp_path_factory: pytest.TempPathFactory, ja_speech) -> Path:  # type: ignore[no-untyped-def]
    """One clean take and one of each way a take goes wrong, side by side as a singer would have them."""
    folder = tmp_path_factory.mktemp("singer-takes")
    clean = folder / "clean.wav"
    clean.write_bytes(ja_speech.wav_path.read_bytes())
    damaged.clipped(clean, folder / "clipped.wav")
    damaged.noisy(clean, folder / "noisy.wav", snr_db=10.0)
    damaged.silent(clean, folder / "silent.wav")
    damaged.truncated_header(clean, folder / "truncated.wav")
    damaged.low_rate(clean, folder / "phone.wav", sample_rate_hz=8000)
    damaged.sparse_long(folder / "two-hours.wav", duration_s=7200.0)
    damaged.not_audio(folder / "notes.wav")
    return folder


def _row(output: str, file_name: str) -> str:
    """The table's text for one file, its folded lines joined."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if f"│ {file_name} " in line)
    block = []
    for line in lines[start:]:
        if line.startswith(("├", "└")):
            break
        block.append(line)
    return " ".join(" ".join(block).split())


@pytest.fixture(scope="session")
def check_output(takes_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    result = run_cli("check", takes_folder, log_dir=tmp_path_factory.mktemp("logs"))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


@pytest.mark.parametrize(
    ("file_name", "verdict", "words"),
    [
        ("clean.wav", "ok", "nothing: it is good"),
        ("clipped.wav", "fail", "clipped"),
        ("noisy.wav", "fail", "noisy"),
        ("silent.wav", "fail", "silent"),
        ("truncated.wav", "fail", "cut off"),
        ("phone.wav", "fail", "8 kHz"),
        ("two-hours.wav", "fail", "2 h"),
        ("notes.wav", "fail", "not an audio file"),
    ],
)
def test_each_take_is_named_with_its_problem_in_words(
    check_output: tuple[int, str], file_name: str, verdict: str, words: str
) -> None:
    _, output = check_output
    row = _row(output, file_name)
    assert f"│ {verdict} " in row
    assert words.lower() in row.lower(), row


def test_a_folder_with_failed_takes_exits_with_1(check_output: tuple[int, str]) -> None:
    exit_code, _ = check_output
    assert exit_code == 1


def test_clean_take_passes_and_gets_three_pictures(ja_speech, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pictures = tmp_path / "pictures"
    result = run_cli("check", ja_speech.wav_path, "--png", pictures, log_dir=tmp_path)
    assert result.exit_code == 0, result.output
    stem = ja_speech.wav_path.stem
    drawn = sorted(p.name for p in pictures.iterdir())
    assert drawn == [f"{stem}.f0.png", f"{stem}.spectrogram.png", f"{stem}.waveform.png"]
    assert all((pictures / name).read_bytes().startswith(b"\x89PNG") for name in drawn)


def test_a_missing_path_is_named_not_traced(tmp_path: Path) -> None:
    result = run_cli("check", tmp_path / "nowhere.wav", log_dir=tmp_path)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "nowhere.wav" in result.stdout
