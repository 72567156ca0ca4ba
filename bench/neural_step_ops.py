"""What one training step asks of the device: operator calls (≈ kernel launches) and host reads (≈ syncs).

On a GPU the studio's VITS step is bound by latency, not throughput: every operator is a kernel launch
and every tensor read back to Python (`.item()`, `if tensor:`, boolean indexing) stalls the host until
the GPU catches up. Both are properties of the code, not of the device, so they are counted here on the
CPU: one step (the third of a run) under a dispatch mode that sees every operator the step calls,
forward and backward. The alignment search is also timed alone on batches of training size.
Run: `python bench/neural_step_ops.py [--markdown] [--batch-size 8]`.
"""

import argparse
import collections
import statistics
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import torch

from machine import machine, print_table
from neural import dataset
from voicestudio.neural.device_demands import DeviceDemands
from voicestudio.neural.monotonic_align import maximum_path
from voicestudio.neural.piper import PiperEngine
from voicestudio.neural.values import TrainingProgress, TrainingSettings

SEARCH_SHAPES = ((4, 350, 120), (32, 350, 220), (32, 700, 300))  # batch, frames, tokens
SEARCH_RUNS = 7
CENSUS_STEP = 3  # the first two steps build caches and the optimizer's state
_HERE = Path(__file__).name


class StepCensus:
    """Kernel-running operators by region of the step, host reads by the source line that asked."""

    def __init__(self) -> None:
        self.launches: collections.Counter[str] = collections.Counter()
        self.reads: collections.Counter[str] = collections.Counter()
        self.mode = DeviceDemands(self.record)

    def record(self, read: bool) -> None:
        if read:
            self.reads[_asking_line()] += 1
        else:
            self.launches[_region()] += 1


def _outside_torch() -> list[traceback.FrameSummary]:
    """The caller's frames: torch's own (but its optimizers) and the counting code left out."""
    return [
        frame
        for frame in traceback.extract_stack()
        if ("/torch/" not in frame.filename or "/torch/optim/" in frame.filename)
        and not frame.filename.endswith((_HERE, "device_demands.py"))
    ]


def _region() -> str:
    files = " ".join(frame.filename for frame in _outside_torch()[-4:])
    if "monotonic_align" in files:
        return "alignment search"
    if "/torch/optim/" in files:
        return "optimizer"
    return "model"


def _asking_line() -> str:
    frames = _outside_torch()
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{frame.filename.rsplit('site-packages/', 1)[-1].rsplit('/src/', 1)[-1]}:{frame.lineno}"


def census_of_step(preset: str, batch_size: int, data: Any, out_dir: Path) -> StepCensus:
    """Train CENSUS_STEP steps of `preset` and count what step CENSUS_STEP did."""
    census = StepCensus()

    def on_progress(progress: TrainingProgress) -> None:
        if progress.done == CENSUS_STEP - 1:
            census.mode.__enter__()
        elif progress.done == CENSUS_STEP:
            census.mode.__exit__(None, None, None)

    settings = TrainingSettings(
        preset=preset,  # type: ignore[arg-type]
        steps=CENSUS_STEP,
        batch_size=batch_size,
        device="cpu",
        checkpoint_every_steps=100,
    )
    PiperEngine(min_duration_s=1.0).train(data, out_dir, settings, on_progress)
    return census


def row_of(preset: str, batch_size: int, census: StepCensus) -> list[str]:
    return [
        f"{preset} (batch {batch_size})",
        str(sum(census.launches.values())),
        str(census.launches["model"]),
        str(census.launches["alignment search"]),
        str(census.launches["optimizer"]),
        str(sum(census.reads.values())),
    ]


def search_row(batch: int, frame_count: int, token_count: int) -> list[str]:
    """Median time and operator count of one alignment search on scores of training magnitude."""
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(batch, frame_count, token_count, generator=generator) * 300 - 1500
    frames = torch.randint(frame_count // 2, frame_count + 1, (batch,), generator=generator)
    tokens = torch.minimum(
        torch.randint(token_count // 3, token_count + 1, (batch,), generator=generator), frames
    )
    frame_index = torch.arange(frame_count).view(1, -1, 1)
    token_index = torch.arange(token_count).view(1, 1, -1)
    mask = ((frame_index < frames.view(-1, 1, 1)) & (token_index < tokens.view(-1, 1, 1))).float()
    maximum_path(scores, mask)
    took_s = []
    for _ in range(SEARCH_RUNS):
        started = time.perf_counter()
        maximum_path(scores, mask)
        took_s.append(time.perf_counter() - started)
    with DeviceDemands() as demands:
        maximum_path(scores, mask)
    shape = f"{batch} × {frame_count} × {token_count}"
    return [shape, f"{statistics.median(took_s) * 1000:.1f} ms", str(demands.kernels)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--presets", nargs="+", default=["tiny", "medium"])
    args = parser.parse_args()
    rows = []
    sources = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = dataset(work / "dataset", args.batch_size)
        for preset in args.presets:
            census = census_of_step(preset, args.batch_size, data, work / preset)
            rows.append(row_of(preset, args.batch_size, census))
            sources.append(
                f"{preset}: " + ", ".join(f"{line} ×{n}" for line, n in census.reads.most_common(6))
            )
    print(machine())
    header = [
        "preset",
        "operators / step",
        "model",
        "alignment search",
        "optimizer",
        "host reads / step",
    ]
    print_table(header, rows, args.markdown)
    print("\nHost reads by the line that asked:\n" + "\n".join(sources) + "\n")
    search_rows = [search_row(*shape) for shape in SEARCH_SHAPES]
    print_table(
        ["alignment search (batch × frames × tokens)", "time", "operators"], search_rows, args.markdown
    )


if __name__ == "__main__":
    main()
