"""The alignment search that replaces piper's missing compiled module finds the very same paths."""

import importlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from voicestudio.neural.monotonic_align import install_maximum_path, maximum_path

_NEVER = -1e9


def reference_path(scores: npt.NDArray[np.float32], frames: int, tokens: int) -> npt.NDArray[np.float32]:
    """Plain loops: best cumulative score per cell, then walk back from the last token (a tie stays)."""
    total = scores.astype(np.float32).copy()
    for frame in range(frames):
        for token in range(max(0, tokens + frame - frames), min(tokens, frame + 1)):
            stay = _NEVER if token == frame else total[frame - 1, token]
            first_token_score = 0.0 if frame == 0 else _NEVER
            advance = first_token_score if token == 0 else total[frame - 1, token - 1]
            total[frame, token] += max(advance, stay)
    path = np.zeros_like(scores)
    token = tokens - 1
    for frame in range(frames - 1, -1, -1):
        path[frame, token] = 1
        if token > 0 and (token == frame or total[frame - 1, token] < total[frame - 1, token - 1]):
            token -= 1
    return path


def _batch(seed: int, rounded: bool) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    frames_max, tokens_max = int(rng.integers(8, 70)), int(rng.integers(2, 25))
    scores = rng.normal(size=(3, frames_max, tokens_max)).astype(np.float32)
    if rounded:
        scores = np.round(scores)  # many ties
    mask = np.zeros_like(scores)
    sizes = []
    for row in range(3):
        frames = int(rng.integers(2, frames_max + 1))
        tokens = int(rng.integers(1, min(tokens_max, frames) + 1))
        mask[row, :frames, :tokens] = 1
        sizes.append((frames, tokens))
    return torch.from_numpy(scores), torch.from_numpy(mask), sizes


def test_search_finds_the_same_path_as_plain_loops_on_40_random_batches() -> None:
    differing_cells = 0
    for seed in range(40):
        scores, mask, sizes = _batch(seed, rounded=seed % 2 == 0)
        found = maximum_path(scores, mask).numpy()
        for row, (frames, tokens) in enumerate(sizes):
            expected = np.zeros_like(found[row])
            expected[:frames, :tokens] = reference_path(scores[row, :frames, :tokens].numpy(), frames, tokens)
            differing_cells += int(np.abs(found[row] - expected).sum())
    assert differing_cells == 0


def test_every_frame_takes_one_token_and_the_path_never_goes_back() -> None:
    scores, mask, sizes = _batch(7, rounded=False)
    path = maximum_path(scores, mask)
    for row, (frames, tokens) in enumerate(sizes):
        assert path[row, :frames].sum(dim=1).tolist() == [1.0] * frames
        assert path[row, frames:].sum().item() == 0.0
        tokens_taken = path[row, :frames].argmax(dim=1)
        steps = (tokens_taken[1:] - tokens_taken[:-1]).tolist()
        assert set(steps) <= {0, 1}
        assert tokens_taken[0].item() == 0 and tokens_taken[-1].item() == tokens - 1


def test_piper_training_uses_this_search_because_the_wheel_lacks_the_compiled_one() -> None:
    import piper.train.vits

    package_dir = Path(piper.train.vits.__file__).parent / "monotonic_align"
    assert list(package_dir.rglob("core*.so")) == []
    install_maximum_path()
    assert importlib.import_module("piper.train.vits.monotonic_align").maximum_path is maximum_path
    assert install_maximum_path() is True  # asking again changes nothing


def test_search_matches_plain_loops_on_take_sized_rows_with_training_sized_scores() -> None:
    """Real neg_cent cells are around -1500 and rows run to hundreds of frames (a 3.5 s take)."""
    rng = np.random.default_rng(11)
    scores = (rng.normal(size=(2, 300, 90)) * 300 - 1500).astype(np.float32)
    mask = np.zeros_like(scores)
    sizes = [(300, 90), (214, 57)]
    for row, (frames, tokens) in enumerate(sizes):
        mask[row, :frames, :tokens] = 1

    found = maximum_path(torch.from_numpy(scores), torch.from_numpy(mask)).numpy()

    for row, (frames, tokens) in enumerate(sizes):
        expected = reference_path(scores[row, :frames, :tokens], frames, tokens)
        assert np.array_equal(found[row, :frames, :tokens], expected)
        assert found[row].sum() == frames
