"""`voicestudio train`, `export` and `synth`: a folder of read sentences becomes a voice the singer hears."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cli.cli_runner import run_cli
from voicestudio.align.reference import synthesize_english
from voicestudio.audio.analysis import peak_dbfs
from voicestudio.audio.io import read_audio, write_wav_atomic
from voicestudio.cli.app import app, console
from voicestudio.cli.errors import run_reporting_errors
from voicestudio.neural.checkpoints import read_checkpoint
from voicestudio.text.prompts import load_prompt_set

SENTENCES = 4  # about 15 s of eSpeak speech: enough for two tiny steps, far below the real minute
TINY = ("--preset", "tiny", "--device", "cpu", "--batch-size", "2", "--checkpoint-every", "1")
LOW_MINIMUM = ("--min-audio-s", "5")


def voicestudio(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """Run the command in this process, exactly as `main` does; its exit code and its words, unfolded."""

    def run() -> int:
        app([str(arg) for arg in args], prog_name="voicestudio")
        return 0

    code = run_reporting_errors(run, console)
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


@pytest.fixture(scope="module")
def sentence_takes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first sentences of en-paragraph spoken by eSpeak, named as the set names its takes."""
    folder = tmp_path_factory.mktemp("takes")
    for prompt in load_prompt_set("en-paragraph").prompts[:SENTENCES]:
        speech = synthesize_english(prompt.text)
        write_wav_atomic(folder / prompt.wav_name, speech.samples, speech.sample_rate_hz)
    return folder


def test_a_voice_trained_from_sentences_resumes_exports_and_speaks(
    sentence_takes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    voice = tmp_path / "voice"
    train = ("train", sentence_takes, "--prompts", "en-paragraph", "--out", voice, *TINY, *LOW_MINIMUM)
    code, said = voicestudio(capsys, *train, "--steps", "1")
    assert code == 0, said
    assert read_checkpoint(voice / "checkpoints" / "last.ckpt").step == 1
    assert "4 of en-paragraph" in said

    code, said = voicestudio(capsys, *train, "--steps", "2")
    assert code == 0, said
    assert "Resuming from the checkpoint" in said
    assert read_checkpoint(voice / "checkpoints" / "last.ckpt").step == 2

    model = tmp_path / "model"
    code, said = voicestudio(capsys, "export", voice / "checkpoints" / "last.ckpt", "--out", model)
    assert code == 0, said
    assert sorted(p.name for p in model.iterdir()) == ["card.json", "model.onnx", "model.onnx.json"]
    card = json.loads((model / "card.json").read_text(encoding="utf-8"))
    assert (card["size"], card["steps"]) == ("tiny", 2)
    assert not list(tmp_path.glob(".*part"))

    wav = tmp_path / "hello.wav"
    code, said = voicestudio(capsys, "synth", model, "--text", "Hello there, this is my voice.", "--out", wav)
    assert code == 0, said
    clip = read_audio(wav)
    assert clip.sample_rate_hz == 22050
    assert 0.3 < clip.duration_s < 10.0
    assert peak_dbfs(clip.samples) > -20.0
    assert float(np.sqrt(np.mean(clip.samples**2))) > 1e-3  # not silence


def test_training_a_folder_without_takes_exits_2_and_names_the_files_to_record(tmp_path: Path) -> None:
    (tmp_path / "takes").mkdir()
    result = run_cli(
        "train",
        tmp_path / "takes",
        "--prompts",
        "en-paragraph",
        "--out",
        tmp_path / "voice",
        log_dir=tmp_path,
    )
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert "holds no takes of en-paragraph" in said and "en_sentence_01.wav" in said
    assert "Traceback" not in said
    assert not (tmp_path / "voice").exists()


def test_an_unreadable_base_checkpoint_exits_2_and_says_what_to_use(
    sentence_takes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base.ckpt"
    base.write_bytes(b"not a checkpoint at all\n" * 100)
    sha256 = hashlib.sha256(base.read_bytes()).hexdigest()
    voice = tmp_path / "voice"
    args = ("train", sentence_takes, "--prompts", "en-paragraph", "--out", voice, *TINY, *LOW_MINIMUM)
    code, said = voicestudio(capsys, *args, "--steps", "1", "--base", base, "--base-sha256", sha256)
    assert code == 2, said
    assert "is not a piper (VITS) training checkpoint" in said and str(base) in said
    assert not (voice / "checkpoints" / "last.ckpt").exists()

    code, said = voicestudio(capsys, *args, "--base", base)
    assert code == 2
    assert "Give --base and --base-sha256 together" in said

    code, said = voicestudio(capsys, *args, "--base", base, "--base-sha256", "abc")
    assert code == 2
    assert "is not 64 hexadecimal digits" in said


def test_training_a_reclist_is_refused_with_the_paragraph_sets_to_record(
    sentence_takes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, said = voicestudio(capsys, "train", sentence_takes, "--prompts", "ja-cv", "--out", tmp_path / "v")
    assert code == 2
    assert "single morae" in said and "en-paragraph" in said and "ja-paragraph" in said
