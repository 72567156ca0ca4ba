"""A voicebank maker aligns one take from the command line and opens the phones in Praat."""

from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli
from typer.testing import CliRunner

from fixtures.speech import SpeechFixture
from voicestudio.align.labels import read_lab, read_textgrid
from voicestudio.align.metrics import matching_start_errors_ms
from voicestudio.cli.app import app


def test_aligning_a_take_writes_a_textgrid_with_its_true_phone_times(
    ja_speech: SpeechFixture, tmp_path: Path
) -> None:
    out = tmp_path / "take.TextGrid"
    result = run_cli("align", ja_speech.wav_path, "--text", ja_speech.text, "--out", out, log_dir=tmp_path)
    assert result.exit_code == 0, result.output
    phones = read_textgrid(out)["phones"]
    errors = matching_start_errors_ms(phones, ja_speech.alignment)
    assert len(errors) >= 20
    assert float(np.median(errors)) <= 5.0


def test_an_english_take_can_be_written_as_htk_lab(en_speech: SpeechFixture, tmp_path: Path) -> None:
    out = tmp_path / "take.lab"
    result = run_cli(
        "align", en_speech.wav_path, "--text", en_speech.text, "--lang", "en", "--out", out, log_dir=tmp_path
    )
    assert result.exit_code == 0, result.output
    # English text goes to pocketsphinx by default; it places eSpeak's phones 9 ms from the truth (median).
    assert float(np.median(matching_start_errors_ms(read_lab(out), en_speech.alignment))) <= 15.0


def test_an_unknown_output_format_is_refused_before_any_work(
    ja_speech: SpeechFixture, tmp_path: Path
) -> None:
    out_dir = tmp_path / "labels"
    out_dir.mkdir()
    result = run_cli(
        "align", ja_speech.wav_path, "--text", "x", "--out", out_dir / "x.json", log_dir=tmp_path
    )
    assert result.exit_code == 2
    assert ".TextGrid" in result.output and "Traceback" not in result.output
    assert list(out_dir.iterdir()) == []


def test_aligning_by_phones_writes_a_textgrid_with_the_phones_as_typed(
    ja_speech: SpeechFixture, tmp_path: Path
) -> None:
    out = tmp_path / "take.TextGrid"
    phones = "k o N n i ch i w a pau ky o o w a i i t e N k i d e s U n e"

    result = run_cli("align", ja_speech.wav_path, "--phonemes", phones, "--out", out, log_dir=tmp_path)

    assert result.exit_code == 0, result.output
    found = read_textgrid(out)["phones"]
    assert [p for p in found.phones if p not in ("sil", "pau")] == phones.replace(" pau", "").split()
    errors = matching_start_errors_ms(found, ja_speech.alignment)
    assert len(errors) == 27
    assert float(np.median(errors)) <= 5.0


@pytest.mark.parametrize(
    "what_was_said",
    [["--text", "こんにちは", "--phonemes", "k o N n i ch i w a"], []],
    ids=["both", "neither"],
)
def test_text_and_phones_are_asked_for_one_at_a_time(
    ja_speech: SpeechFixture, tmp_path: Path, what_was_said: list[str]
) -> None:
    out = tmp_path / "take.TextGrid"

    args = ["align", str(ja_speech.wav_path), *what_was_said, "--out", str(out)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "220"})  # in-process: no child to start

    assert result.exit_code == 2
    assert "give exactly one of them: --text" in result.output and "--phonemes" in result.output
    assert not out.exists()
