"""One chunk of a training run as a pure step over files, as a rented GPU runs it: a dataset tar and a
checkpoint in, a later checkpoint and each step's losses out, with JSON for what travels between machines."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import TinyBase
from voicestudio.neural.checkpoints import read_checkpoint
from voicestudio.neural.chunk import (
    ChunkOutcome,
    pack_dataset,
    settings_from_json,
    settings_to_json,
    train_chunk,
    unpack_dataset,
)
from voicestudio.neural.errors import BadDataset, BadSettings
from voicestudio.neural.values import BaseCheckpoint, Dataset, TrainingProgress, TrainingSettings

RUN = TrainingSettings(preset="tiny", steps=6, batch_size=2, device="cpu", checkpoint_every_steps=1)


def test_the_dataset_travels_as_a_tar_and_unpacks_to_the_same_set(
    english_dataset: Dataset, tmp_path: Path
) -> None:
    tar = pack_dataset(english_dataset, tmp_path / "dataset.tar")
    unpacked = unpack_dataset(tar, tmp_path / "here" / "dataset")
    assert (unpacked.utterance_count, unpacked.duration_s) == (
        english_dataset.utterance_count,
        english_dataset.duration_s,
    )
    originals = sorted(p.relative_to(english_dataset.root_dir) for p in english_dataset.root_dir.rglob("*"))
    assert sorted(p.relative_to(unpacked.root_dir) for p in unpacked.root_dir.rglob("*")) == originals
    assert [p.name for p in (tmp_path / "here").iterdir()] == ["dataset"]  # no part folder left behind
    assert unpack_dataset(tmp_path / "missing.tar", unpacked.root_dir) == unpacked  # a complete one is kept

    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar" * 100)
    with pytest.raises(BadDataset, match="not a readable tar"):
        unpack_dataset(junk, tmp_path / "junk")
    assert not (tmp_path / "junk").exists()


def test_a_chunk_continues_a_checkpoint_to_its_stop_step_and_counts_towards_the_whole_run(
    english_dataset: Dataset, tiny_base: TinyBase, tmp_path: Path
) -> None:
    dataset = unpack_dataset(pack_dataset(english_dataset, tmp_path / "dataset.tar"), tmp_path / "dataset")
    seen: list[TrainingProgress] = []
    kept: list[tuple[Path, int]] = []
    outcome = train_chunk(
        dataset.root_dir,
        tiny_base.checkpoint.path,
        RUN,
        until_step=4,
        out_dir=tmp_path / "run",
        progress=seen.append,
        on_checkpoint=lambda path, step: kept.append((path, step)),
    )
    assert [(p.step, p.total) for p in seen] == [(3, 6), (4, 6)]  # from the base's step 2, of 6 in all
    assert seen[-1].eta_s == pytest.approx(2 * seen[-1].seconds_per_step)
    assert [step for _path, step in kept] == [3, 4]
    assert (outcome.step, read_checkpoint(outcome.checkpoint_path).step) == (4, 4)
    assert outcome.checkpoint_bytes == outcome.checkpoint_path.stat().st_size
    assert [s.step for s in outcome.steps] == [3, 4]
    assert {"loss_g", "loss_d", "train_mel"} <= set(outcome.steps[-1].losses)
    assert read_checkpoint(tiny_base.checkpoint.path).step == 2  # the input checkpoint is left as it was

    sent = json.loads(json.dumps(outcome.to_json(), allow_nan=False))
    assert ChunkOutcome.from_json(sent, outcome.checkpoint_path) == outcome

    again = train_chunk(dataset.root_dir, outcome.checkpoint_path, RUN, 4, tmp_path / "run")
    assert (again.step, again.steps) == (4, ())  # already there: nothing trained


def test_training_settings_travel_as_json_without_the_local_cache_folder(tmp_path: Path) -> None:
    settings = TrainingSettings(
        preset="tiny",
        steps=500,
        batch_size=8,
        device="cuda",
        precision="bf16-mixed",
        checkpoint_every_steps=50,
        base=BaseCheckpoint("https://example.org/base.ckpt", "a" * 64),
        cache_dir=tmp_path / "here",
        seed=7,
    )
    sent = json.loads(json.dumps(settings_to_json(settings)))
    assert "cache_dir" not in sent
    received = settings_from_json(sent, cache_dir=tmp_path / "there")
    assert received == replace(settings, cache_dir=tmp_path / "there")
    assert (received.preset, received.steps, received.device, received.seed) == ("tiny", 500, "cuda", 7)
    with pytest.raises(BadSettings, match="malformed"):
        settings_from_json({**sent, "device": "tpu"})
