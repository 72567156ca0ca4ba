"""A voicebank maker aligns one take from the command line and opens the phones in Praat."""

from pathlib import Path

import numpy as np
from cli_runner import run_cli

from fixtures.speech import SpeechFixture
from voicestudio.align.labels import read_lab, read_textgrid
from voicestudio.align.metrics import matching_start_errors_ms


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
    assert float(np.median(matching_start_errors_ms(read_lab(out), en_speech.alignment))) <= 5.0


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
