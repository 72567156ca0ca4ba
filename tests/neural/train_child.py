"""A training worker for the crash test: train DATASET into OUT for STEPS, one JSON line per step."""

import json
import sys
from pathlib import Path

from voicestudio.neural.dataset import load_dataset
from voicestudio.neural.piper import PiperEngine
from voicestudio.neural.values import TrainingProgress, TrainingSettings


def report(progress: TrainingProgress) -> None:
    print(json.dumps({"step": progress.step, "checkpoint_step": progress.checkpoint_step}), flush=True)


if __name__ == "__main__":
    dataset_dir, out_dir, steps = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    settings = TrainingSettings(
        preset="tiny", steps=steps, batch_size=2, device="cpu", checkpoint_every_steps=1
    )
    PiperEngine().train(load_dataset(dataset_dir), out_dir, settings, report)
