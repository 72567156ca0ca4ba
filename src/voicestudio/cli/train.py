"""`voicestudio train`, `export` and `synth`: a neural voice from a folder of sentence takes, on this machine.

The same library functions as the studio's `train` job: `train_voice_run` and `export_voice`.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from typer import BadParameter

from voicestudio.audio.analysis import peak_dbfs
from voicestudio.audio.errors import describe_duration
from voicestudio.audio.io import write_wav_atomic
from voicestudio.cli.progress import progress_bar
from voicestudio.domain import Progress, ProgressCallback, PromptSetKind
from voicestudio.errors import VoicestudioError
from voicestudio.neural.errors import BadModel, BadSettings, BaseCheckpointError
from voicestudio.neural.values import BaseCheckpoint, Device, Preset, TrainingProgress, Utterance
from voicestudio.studio.models import CONFIG_FILE, MODEL_FILE
from voicestudio.studio.voices import (
    TrainRequest,
    VoiceRun,
    check_base,
    export_voice,
    quiet_lightning,
    train_voice_run,
)
from voicestudio.text.prompts import list_prompt_sets, load_prompt_set

SHOWN_LOSSES: Final = ("loss_g", "loss_d", "train_mel")  # the curves worth watching on a terminal
LISTED_MAX: Final = 5
PRESETS: Final[dict[str, Preset]] = {"tiny": "tiny", "medium": "medium"}
DEVICES: Final[dict[str, Device]] = {"auto": "auto", "cpu": "cpu", "cuda": "cuda"}


class TrainingInputError(VoicestudioError):
    """A train, export or synth command whose inputs cannot work; the message says what to change."""


@dataclass(frozen=True, slots=True)
class TrainCommand:
    """What `voicestudio train` was asked: the takes, their prompt set, the run folder and the settings."""

    takes_dir: Path
    prompts: str
    out: Path
    request: TrainRequest
    min_audio_s: float


def folder_utterances(takes_dir: Path, prompts: str) -> list[Utterance]:
    """The takes in TAKES_DIR named by the paragraph set's wav names, each with its sentence as transcript."""
    prompt_set = load_prompt_set(prompts)
    if prompt_set.kind is not PromptSetKind.paragraph:
        paragraph_sets = [s.name for s in list_prompt_sets() if s.kind is PromptSetKind.paragraph]
        raise TrainingInputError(
            f"{prompts} is a {prompt_set.kind.value} reclist: single morae make a poor speaking voice. "
            f"Record and train on a paragraph set ({', '.join(paragraph_sets)})."
        )
    if not takes_dir.is_dir():
        raise TrainingInputError(f"{takes_dir} is not a folder. Give the folder that holds the takes.")
    utterances = [
        Utterance(takes_dir / prompt.wav_name, prompt.text, name=prompt.wav_name)
        for prompt in prompt_set.prompts
        if (takes_dir / prompt.wav_name).is_file()
    ]
    if not utterances:
        names = [prompt.wav_name for prompt in prompt_set.prompts]
        shown = ", ".join(names[:LISTED_MAX]) + (", ..." if len(names) > LISTED_MAX else "")
        raise TrainingInputError(
            f"{takes_dir} holds no takes of {prompts}: expected files named {shown}. "
            f"Record them (voicestudio prompts show {prompts}) and name each as listed."
        )
    return utterances


def train_command(command: TrainCommand, console: Console) -> int:
    """Train (or resume) a voice in OUT from the folder's takes; print where the checkpoint is; exit code."""
    check_base(command.request.base)
    utterances = folder_utterances(command.takes_dir, command.prompts)
    from voicestudio.neural.piper import PiperEngine  # torch loads only for this command

    quiet_lightning()
    language = load_prompt_set(command.prompts).language
    run = VoiceRun(command.out)
    resuming = run.checkpoint_path.is_file()
    if resuming:
        console.print(f"Resuming from the checkpoint in {run.checkpoint_dir}.", highlight=False)
    engine = PiperEngine(min_duration_s=command.min_audio_s)
    with training_bars(console) as on_progress:
        checkpoint = train_voice_run(
            engine, utterances, language, run, command.request.settings(), on_progress
        )
    table = Table(title=f"Voice trained in {command.out}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("takes", f"{len(utterances)} of {command.prompts}")
    table.add_row("steps", f"{checkpoint.step} (epoch {checkpoint.epoch})")
    table.add_row("checkpoint", f"{checkpoint.path} ({checkpoint.size_bytes / 1e6:.1f} MB)")
    console.print(table)
    console.print(
        f"Export it: voicestudio export {checkpoint.path} --out MODEL_DIR; "
        f"train more: the same command with a larger --steps.",
        highlight=False,
    )
    return 0


def export_command(checkpoint: Path, out: Path, console: Console) -> int:
    """Export CHECKPOINT (a .ckpt, or a train folder) as model.onnx + model.onnx.json + card.json in OUT."""
    path = VoiceRun(checkpoint).checkpoint_path if checkpoint.is_dir() else checkpoint
    if not path.is_file():
        raise TrainingInputError(
            f"There is no checkpoint at {path}. Give the last.ckpt that voicestudio train wrote, "
            "or the folder given to train as --out."
        )
    from voicestudio.neural.checkpoints import read_checkpoint
    from voicestudio.neural.piper import PiperEngine

    try:
        found = read_checkpoint(path)
    except Exception as error:  # torch and pickle raise many kinds for a file that is no checkpoint
        raise BadModel.at(path, f"not a training checkpoint: {error}") from error
    with progress_bar("export", console) as on_progress:
        on_progress(Progress("export", 0, 1, path.name))
        model = export_voice(PiperEngine(), found, out, {"name": out.name})
        on_progress(Progress("export", 1, 1, path.name))
    console.print(
        f"Wrote {model.onnx_path} ({model.size_bytes / 1e6:.1f} MB, {found.step} steps, "
        f"{model.sample_rate_hz} Hz) and {model.config_path.name}. "
        f'Try it: voicestudio synth {out} --text "Hello." --out hello.wav',
        highlight=False,
    )
    return 0


def synth_command(model: Path, text: str, out: Path, console: Console) -> int:
    """Speak TEXT with MODEL (a model folder or its .onnx) into the WAV file OUT."""
    onnx_path = model / MODEL_FILE if model.is_dir() else model
    if not onnx_path.is_file():
        raise TrainingInputError(
            f"There is no model at {onnx_path}. Give the folder voicestudio export wrote, "
            f"or its {MODEL_FILE} (with {CONFIG_FILE} beside it)."
        )
    if not text.strip():
        raise TrainingInputError('There is nothing to say. Give a sentence with --text "...".')
    from voicestudio.neural.synthesis import synthesize

    clip = synthesize(onnx_path, text=text)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_wav_atomic(out, clip.samples, clip.sample_rate_hz)
    console.print(
        f"Wrote {out}: {describe_duration(clip.duration_s)} at {clip.sample_rate_hz} Hz, "
        f"peak {peak_dbfs(clip.samples):.1f} dBFS.",
        highlight=False,
    )
    return 0


def train_request(
    preset: str,
    steps: int,
    device: str,
    base: str | None,
    base_sha256: str | None,
    batch_size: int,
    checkpoint_every: int,
) -> TrainRequest:
    """The request the options describe; a base needs its sha256 and the other way round."""
    if preset not in PRESETS:
        raise BadParameter(f"{preset!r} is not one of {', '.join(PRESETS)}.", param_hint="'--preset'")
    if device not in DEVICES:
        raise BadParameter(f"{device!r} is not one of {', '.join(DEVICES)}.", param_hint="'--device'")
    if (base is None) != (base_sha256 is None):
        raise BaseCheckpointError(
            "Give --base and --base-sha256 together: the path or URL of the checkpoint, and the sha256 "
            "published with it (sha256sum FILE prints it)."
        )
    if batch_size < 1 or checkpoint_every < 1 or steps < 1:
        raise BadSettings("--steps, --batch-size and --checkpoint-every must each be 1 or more.")
    return TrainRequest(
        preset=PRESETS[preset],
        steps=steps,
        device=DEVICES[device],
        base=BaseCheckpoint(base, base_sha256) if base is not None and base_sha256 is not None else None,
        checkpoint_every_steps=checkpoint_every,
        batch_size=batch_size,
    )


@contextmanager
def training_bars(console: Console) -> Iterator[ProgressCallback]:
    """A bar for preparing the dataset, then one for training that shows the step, losses and ETA."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
    )
    with ExitStack() as stack:
        bars: dict[str, ProgressCallback] = {}

        def update(progress: Progress) -> None:
            if progress.stage not in bars:
                stack.close()
                bar = stack.enter_context(RichProgress(*columns, console=console, transient=True))
                task = bar.add_task(progress.stage, total=None, item="")

                def advance(p: Progress) -> None:
                    bar.update(task, completed=p.done, total=p.total, item=_describe(p))

                bars[progress.stage] = advance
            bars[progress.stage](progress)

        yield update


def _describe(progress: Progress) -> str:
    """The losses worth watching and the time left, for a training step; the item name otherwise."""
    if not isinstance(progress, TrainingProgress):
        return progress.item
    losses = "  ".join(
        f"{name} {progress.losses[name]:.3f}" for name in SHOWN_LOSSES if name in progress.losses
    )
    return f"{losses}  {progress.seconds_per_step:.2f} s/step  ETA {describe_duration(progress.eta_s)}"
