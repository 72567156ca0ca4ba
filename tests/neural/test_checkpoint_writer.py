"""Checkpoints are written while training goes on: what is written is the state at the save, whole."""

import threading
from pathlib import Path

import pytest
import torch

from voicestudio.neural.checkpoint_writer import BackgroundCheckpointIO
from voicestudio.neural.checkpoints import read_checkpoint
from voicestudio.neural.piper import PiperEngine
from voicestudio.neural.values import Dataset, TrainingProgress, TrainingSettings


def test_the_file_holds_the_weights_as_they_were_at_the_save(tmp_path: Path) -> None:
    weights = torch.ones(1000)
    state = {"state_dict": {"w": weights}, "optimizer_states": [{"step": torch.tensor(3.0)}], "epoch": 1}
    written = threading.Event()
    writer = BackgroundCheckpointIO()

    writer.save_checkpoint(state, tmp_path / "last.ckpt", storage_options=written.set)
    weights.add_(1)  # the next training step changes the weights in place at once
    writer.close()

    saved = torch.load(tmp_path / "last.ckpt", weights_only=False)
    assert saved["state_dict"]["w"].sum().item() == 1000.0
    assert saved["optimizer_states"][0]["step"].item() == 3.0 and saved["epoch"] == 1
    assert written.is_set()
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no temporary file left


def test_a_failed_write_is_raised_to_the_trainer(tmp_path: Path) -> None:
    writer = BackgroundCheckpointIO()

    writer.save_checkpoint({"w": torch.zeros(3)}, tmp_path / "missing-folder" / "last.ckpt")

    with pytest.raises(RuntimeError, match="does not exist"):
        writer.close()


def test_each_report_names_a_checkpoint_already_on_disk(
    engine: PiperEngine, english_dataset: Dataset, tmp_path: Path
) -> None:
    last = tmp_path / "run" / "last.ckpt"
    named_and_found: list[tuple[int, int]] = []

    def check(progress: TrainingProgress) -> None:
        if progress.checkpoint_step:
            named_and_found.append((progress.checkpoint_step, read_checkpoint(last).step))

    settings = TrainingSettings(preset="tiny", steps=3, batch_size=2, device="cpu", checkpoint_every_steps=1)
    trained = engine.train(english_dataset, tmp_path / "run", settings, check)

    assert all(found >= named for named, found in named_and_found)
    assert trained.step == 3 and read_checkpoint(last).step == 3
