"""Training a tiny voice: progress per step, checkpoints, cancel, resume after a crash, fine-tuning by URL."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import TINY, TinyBase
from voicestudio.jobs import JobCancelled
from voicestudio.neural.checkpoints import read_checkpoint
from voicestudio.neural.errors import BaseCheckpointError
from voicestudio.neural.piper import PiperEngine
from voicestudio.neural.values import BaseCheckpoint, Dataset, TrainingProgress, TrainingSettings

CHILD = Path(__file__).with_name("train_child.py")


def test_each_step_reports_losses_speed_and_the_checkpoint_on_disk(tiny_base: TinyBase) -> None:
    steps = [p.step for p in tiny_base.progress]
    assert steps == [1, 2]
    # Checkpoints are written while training goes on: a report names the newest one already in place.
    assert all(p.step - 1 <= p.checkpoint_step <= p.step for p in tiny_base.progress)
    first = tiny_base.progress[0]
    assert first.total == 2 and first.stage == "train"
    assert {"loss_g", "loss_d", "train_mel", "train_kl", "train_dur"} <= set(first.losses)
    assert all(value == value and value > 0 for value in first.losses.values())  # finite, positive
    assert first.seconds_per_step > 0 and first.eta_s == pytest.approx(first.seconds_per_step)
    assert tiny_base.checkpoint.step == 2
    assert tiny_base.checkpoint.size_bytes < 30_000_000  # tiny: generator + small STFT discriminator
    assert list(tiny_base.checkpoint.path.parent.glob("*.part")) == []


def test_a_cancelled_job_stops_after_writing_a_clean_checkpoint(
    engine: PiperEngine, english_dataset: Dataset, tmp_path: Path
) -> None:
    def cancel_at_first_step(progress: TrainingProgress) -> None:
        raise JobCancelled

    settings = TrainingSettings(
        preset="tiny", steps=5, batch_size=2, device="cpu", checkpoint_every_steps=100
    )
    with pytest.raises(JobCancelled):
        engine.train(english_dataset, tmp_path / "run", settings, cancel_at_first_step)
    assert read_checkpoint(tmp_path / "run" / "last.ckpt").step == 1
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["last.ckpt"]


def test_training_resumes_from_the_checkpoint_after_the_worker_is_killed(
    engine: PiperEngine, english_dataset: Dataset, tmp_path: Path
) -> None:
    out_dir = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(english_dataset.root_dir), str(out_dir), "50"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        for line in child.stdout:  # blocks until the child reports a step
            if json.loads(line)["checkpoint_step"] >= 2:
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    saved = read_checkpoint(out_dir / "last.ckpt")
    assert saved.step >= 2

    resumed: list[TrainingProgress] = []
    settings = TrainingSettings(preset="tiny", steps=saved.step + 1, batch_size=2, device="cpu")
    final = engine.train(english_dataset, out_dir, settings, resumed.append)
    assert [p.step for p in resumed] == [saved.step + 1]
    assert final.step == saved.step + 1


def test_fine_tuning_fetches_the_base_by_url_and_starts_a_fresh_optimizer(
    engine: PiperEngine, english_dataset: Dataset, tiny_base: TinyBase, checkpoint_server: str, tmp_path: Path
) -> None:
    base = BaseCheckpoint(f"{checkpoint_server}/last.ckpt", tiny_base.sha256)
    settings = TrainingSettings(
        preset="medium", steps=2, batch_size=2, device="cpu", base=base, cache_dir=tmp_path / "cache"
    )  # the base's size wins over the preset
    progress: list[TrainingProgress] = []
    tuned = engine.train(english_dataset, tmp_path / "tuned", settings, progress.append)
    assert [p.step for p in progress] == [1, 2]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [f"{tiny_base.sha256}.ckpt"]
    tuned_weights = torch.load(tuned.path, map_location="cpu", weights_only=False)
    base_weights = torch.load(tiny_base.checkpoint.path, map_location="cpu", weights_only=False)
    assert tuned_weights["hyper_parameters"]["voicestudio_preset"] == "tiny"
    assert tuned_weights["state_dict"].keys() == base_weights["state_dict"].keys()


def test_a_base_with_the_wrong_sha256_is_refused_and_nothing_is_kept(
    engine: PiperEngine, english_dataset: Dataset, checkpoint_server: str, tmp_path: Path
) -> None:
    base = BaseCheckpoint(f"{checkpoint_server}/last.ckpt", "0" * 64)
    settings = TrainingSettings(preset="tiny", steps=1, batch_size=2, base=base, cache_dir=tmp_path / "cache")
    with pytest.raises(BaseCheckpointError) as caught:
        engine.train(english_dataset, tmp_path / "tuned", settings)
    assert "not the expected " + "0" * 64 in caught.value.message
    assert list((tmp_path / "cache").iterdir()) == []
    assert not (tmp_path / "tuned" / "last.ckpt").exists()


def test_an_unreadable_base_checkpoint_gets_a_clear_message(
    engine: PiperEngine, english_dataset: Dataset, tmp_path: Path
) -> None:
    from voicestudio.neural.checkpoints import sha256_of

    junk = tmp_path / "base.ckpt"
    junk.write_bytes(b"this is not a checkpoint\n" * 40)
    settings = TrainingSettings(
        preset="tiny", steps=1, batch_size=2, base=BaseCheckpoint(str(junk), sha256_of(junk))
    )
    with pytest.raises(BaseCheckpointError) as caught:
        engine.train(english_dataset, tmp_path / "tuned", settings)
    assert "is not a piper (VITS) training checkpoint" in caught.value.message

    missing = BaseCheckpoint(str(tmp_path / "nowhere.ckpt"), "a" * 64)
    with pytest.raises(BaseCheckpointError, match="does not exist"):
        engine.train(english_dataset, tmp_path / "tuned", TrainingSettings(preset="tiny", base=missing))
    assert not (tmp_path / "tuned" / "last.ckpt").exists()


def test_the_tiny_settings_the_session_trains_with() -> None:
    assert (TINY.preset, TINY.steps, TINY.device) == ("tiny", 2, "cpu")
