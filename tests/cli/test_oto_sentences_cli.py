"""A singer who read ja-paragraph runs `voicestudio oto-sentences`, then packs the bank for UTAU."""

import zipfile
from pathlib import Path

import pytest
from cli_runner import run_cli

from voicestudio.align.reference import ReferenceUnavailable, synthesize_japanese
from voicestudio.audio.io import write_wav_atomic
from voicestudio.domain import Language, Voicebank
from voicestudio.oto import read_oto_ini
from voicestudio.text.prompts import load_prompt_set
from voicestudio.voicebank import build_voicebank_zip

READ = ("ja_sentence_02", "ja_sentence_03")  # ゔぁ…, rests and っ


@pytest.fixture(scope="module")
def takes_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sentences read by the reference voice under their prompts' names, and a warm-up take."""
    folder = tmp_path_factory.mktemp("read_sentences")
    prompts = {prompt.id: prompt for prompt in load_prompt_set("ja-paragraph").prompts}
    for prompt_id in READ:
        try:
            speech = synthesize_japanese(prompts[prompt_id].text)
        except ReferenceUnavailable as e:
            pytest.skip(str(e))
        write_wav_atomic(folder / prompts[prompt_id].wav_name, speech.samples, speech.sample_rate_hz)
    write_wav_atomic(folder / "warmup.wav", speech.samples[: speech.sample_rate_hz], speech.sample_rate_hz)
    return folder


def test_read_sentences_become_a_bank_that_packs_into_a_voicebank(takes_folder: Path, tmp_path: Path) -> None:
    bank_dir = tmp_path / "bank"
    result = run_cli(
        "oto-sentences", takes_folder, "--prompts", "ja-paragraph", "--out", bank_dir, log_dir=tmp_path
    )
    assert result.exit_code == 0, result.output
    oto = read_oto_ini(bank_dir / "oto.ini")
    assert oto.encoding == "cp932" and oto.skipped == ()
    units = len(oto.entries)
    assert units > 40 and "ヴぁ" in {entry.alias for entry in oto.entries}
    assert f"{units} wavs and oto.ini (shift_jis)" in result.stdout
    assert "/130 CV morae; missing: " in result.stdout
    assert "takes used" in result.stdout and "2 of 2" in result.stdout
    assert "1 wav named by no prompt: warmup.wav" in result.stdout
    assert f"voicestudio build-voicebank {bank_dir} --name NAME" in result.stdout
    summary = build_voicebank_zip(
        bank_dir, Voicebank("Sentences", "", Language.ja, "shift_jis", oto.entries), tmp_path / "bank.zip"
    )
    with zipfile.ZipFile(summary.zip_path) as packed:
        names = packed.namelist()
    assert summary.entry_count == units and sum(name.endswith(".wav") for name in names) == units
