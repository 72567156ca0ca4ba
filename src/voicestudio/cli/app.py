"""The one `voicestudio` command; every subcommand is a thin shell over a library function."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from voicestudio import __version__
from voicestudio.align.take import align_take_file
from voicestudio.cli.account import login
from voicestudio.cli.check import check_command
from voicestudio.cli.errors import run_reporting_errors
from voicestudio.cli.gc import gc
from voicestudio.cli.oto import Reclist, TextEncoding, oto_command
from voicestudio.cli.prompts import print_prompt_set, prompt_sets_table
from voicestudio.cli.voicebank import BankRequest, build_voicebank_command
from voicestudio.cli.worker import worker
from voicestudio.doctor import run_checks
from voicestudio.domain import Language
from voicestudio.text.prompts import load_prompt_set

app = typer.Typer(
    name="voicestudio",
    help="Record your voice; get an UTAU voicebank, then a neural voice.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
prompts_app = typer.Typer(help="Prompt sets and reclists to record.", no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")
console = Console()
LOW_SCORE = 0.5  # a phone the aligner is unsure of: worth a look in Praat


@app.command()
def doctor() -> None:
    """Check that this machine has everything the studio needs."""
    checks = run_checks()
    table = Table(title=f"voicestudio {__version__}: doctor")
    for column in ("check", "status", "found", "fix"):
        table.add_column(column, overflow="fold")
    for check in checks:
        status = "[green]ok[/green]" if check.ok else "[red]missing[/red]"
        table.add_row(check.name, status, check.detail, check.fix)
    console.print(table)
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Audio files or folders of them.")],
    png: Annotated[Path | None, typer.Option("--png", help="Draw waveform, spectrogram and f0 here.")] = None,
) -> None:
    """Check takes for clipping, noise, level, silence and pitch; say what to do about each."""
    raise typer.Exit(check_command(paths, png, console))


@app.command()
def align(
    wav: Annotated[Path, typer.Argument(help="The recorded take.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the phones: FILE.TextGrid or FILE.lab.")],
    text: Annotated[
        str | None, typer.Option("--text", help="What was said, as written (kana/kanji or words).")
    ] = None,
    phonemes: Annotated[
        str | None,
        typer.Option(
            "--phonemes",
            help='What was said as phones, spoken exactly so: "k o N n i ch i w a" (pyopenjtalk names) '
            'or "HH AH0 L OW1" (ARPAbet); pau for a pause.',
        ),
    ] = None,
    lang: Annotated[Language, typer.Option("--lang", help="The take's language.")] = Language.ja,
) -> None:
    """Find where each phone of TEXT (or of PHONEMES) starts and ends in WAV."""
    if (text is None) == (phonemes is None):
        raise typer.BadParameter(
            "give exactly one of them: --text for what was said as written, --phonemes for its phones.",
            param_hint="'--text' / '--phonemes'",
        )
    phones = phonemes.split() if phonemes is not None else None
    alignment = align_take_file(wav, text, lang, out, phonemes=phones)
    low = sum(1 for segment in alignment.segments if segment.score < LOW_SCORE)
    console.print(f"Wrote {len(alignment.segments)} phones to {out} ({low} with a low score).")


@app.command()
def oto(
    folder: Annotated[
        Path, typer.Argument(help="The folder of reclist recordings (ka.wav, _あかさ.wav, ...).")
    ],
    reclist: Annotated[
        Reclist, typer.Option("--reclist", help="Units per file: auto reads each name; or cv, vcv, cvvc.")
    ] = Reclist.auto,
    head: Annotated[bool, typer.Option("--head", help="Name CV units as sung after a rest: '- ka'.")] = False,
    encoding: Annotated[
        TextEncoding, typer.Option("--encoding", help="shift_jis for UTAU, utf-8 for OpenUTAU.")
    ] = TextEncoding.shift_jis,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write it (default: FOLDER/oto.ini).")
    ] = None,
    refine: Annotated[
        bool,
        typer.Option(
            "--refine/--no-refine", help="Re-place boundaries with models of your own voice (default on)."
        ),
    ] = True,
) -> None:
    """Write an oto.ini for every .wav in FOLDER, named by what it says, and list what wants a look."""
    raise typer.Exit(oto_command(folder, reclist, head, encoding, out, console, refine))


@app.command("build-voicebank")
def build_voicebank(
    folder: Annotated[Path, typer.Argument(help="The folder of recordings, with its oto.ini if it has one.")],
    name: Annotated[str, typer.Option("--name", help="The voicebank's name, as singers see it.")],
    out: Annotated[Path, typer.Option("--out", help="The zip to write, e.g. BANK.zip.")],
    author: Annotated[str, typer.Option("--author", help="Who recorded it.")] = "",
    lang: Annotated[Language, typer.Option("--lang", help="The bank's language.")] = Language.ja,
    encoding: Annotated[
        TextEncoding, typer.Option("--encoding", help="Text files: shift_jis for UTAU, utf-8 for OpenUTAU.")
    ] = TextEncoding.shift_jis,
    icon: Annotated[Path | None, typer.Option("--icon", help="A picture for the bank (PNG).")] = None,
    reclist: Annotated[
        Reclist, typer.Option("--reclist", help="Without an oto.ini: units per file (auto, cv, vcv, cvvc).")
    ] = Reclist.auto,
    head: Annotated[bool, typer.Option("--head", help="Without an oto.ini: CV units as '- ka'.")] = False,
) -> None:
    """Package FOLDER as a voicebank zip for UTAU and OpenUTAU; without an oto.ini, make one first."""
    request = BankRequest(folder, name, out, author, lang, encoding, icon, reclist, head)
    raise typer.Exit(build_voicebank_command(request, console))


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 0.0.0.0 for every one.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the database and recordings live (default: data)."),
    ] = None,
    min_training_audio_s: Annotated[
        float | None,
        typer.Option(
            "--min-training-audio-s",
            help="Seconds of sentences a neural voice needs before it may be trained (default: 60).",
        ),
    ] = None,
) -> None:
    """Start the web studio (and its worker) at http://HOST:PORT/; other settings: VOICESTUDIO_* or .env."""
    from voicestudio.cli.serve import serve_studio  # the web stack loads only for this command

    serve_studio(host, port, data_dir, min_training_audio_s)


app.command()(worker)  # voicestudio worker: runs jobs for studio servers elsewhere
app.command()(login)  # voicestudio login --server URL --email E (asks for the password)
app.command()(gc)  # voicestudio gc: the nightly garbage collection (docs/deploy.md)


@app.command("oto-sentences")
def oto_sentences(
    folder: Annotated[Path, typer.Argument(help="The folder of paragraph takes (ja_sentence_01.wav, ...).")],
    prompts: Annotated[str, typer.Option("--prompts", help="The set they read: ja-paragraph.")],
    out: Annotated[Path, typer.Option("--out", help="The bank folder to write: unit wavs and oto.ini.")],
    style: Annotated[str, typer.Option("--style", help="Units: cv, or cvvc (CV + VC + tails).")] = "cv",
    head: Annotated[bool, typer.Option("--head", help="Add '- か' heads (after rests).")] = False,
    encoding: Annotated[
        TextEncoding, typer.Option("--encoding", help="oto.ini: shift_jis for UTAU, utf-8 for OpenUTAU.")
    ] = TextEncoding.shift_jis,
) -> None:
    """Cut the best instance of each unit out of read sentences into a bank folder, with its oto.ini."""
    from voicestudio.cli.sentences import oto_sentences_command  # loads the aligner only for this command

    raise typer.Exit(oto_sentences_command(folder, prompts, out, style, head, encoding, console))


@app.command()
def train(
    takes_dir: Annotated[Path, typer.Argument(help="The folder of sentence takes: en_sentence_01.wav, ...")],
    prompts: Annotated[str, typer.Option("--prompts", help="The paragraph set they read: en-paragraph.")],
    out: Annotated[
        Path, typer.Option("--out", help="The training folder: dataset and checkpoints; resumes if present.")
    ],
    base: Annotated[
        str | None, typer.Option("--base", help="A checkpoint to fine-tune: a .ckpt path or an http(s) URL.")
    ] = None,
    base_sha256: Annotated[
        str | None, typer.Option("--base-sha256", help="The sha256 the base checkpoint must have.")
    ] = None,
    preset: Annotated[
        str, typer.Option("--preset", help="Size when training from scratch: tiny or medium.")
    ] = "medium",
    steps: Annotated[int, typer.Option("--steps", help="Total training steps of the run.")] = 2000,
    device: Annotated[str, typer.Option("--device", help="auto (cuda when present), cpu or cuda.")] = "auto",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Takes per training step.")] = 16,
    checkpoint_every: Annotated[
        int, typer.Option("--checkpoint-every", help="Write a checkpoint every N steps.")
    ] = 100,
    min_audio_s: Annotated[
        float,
        typer.Option(
            "--min-audio-s",
            envvar="VOICESTUDIO_MIN_TRAINING_AUDIO_S",
            help="Seconds of speech the voice needs at least.",
        ),
    ] = 60.0,
) -> None:
    """Train a neural voice (piper VITS) on sentence takes; run it again to resume or to train longer."""
    from voicestudio.cli.train import TrainCommand, train_command, train_request

    request = train_request(preset, steps, device, base, base_sha256, batch_size, checkpoint_every)
    raise typer.Exit(train_command(TrainCommand(takes_dir, prompts, out, request, min_audio_s), console))


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Argument(help="The last.ckpt of a training run (or its folder).")],
    out: Annotated[Path, typer.Option("--out", help="The model folder: model.onnx + model.onnx.json.")],
) -> None:
    """Export a training checkpoint as an ONNX voice that piper, onnxruntime and the browser run."""
    from voicestudio.cli.train import export_command

    raise typer.Exit(export_command(checkpoint, out, console))


@app.command()
def synth(
    model: Annotated[Path, typer.Argument(help="A model folder from export, or its model.onnx.")],
    text: Annotated[str, typer.Option("--text", help="What to say.")],
    out: Annotated[Path, typer.Option("--out", help="The WAV file to write.")],
) -> None:
    """Speak TEXT with a neural voice into a WAV file."""
    from voicestudio.cli.train import synth_command

    raise typer.Exit(synth_command(model, text, out, console))


@prompts_app.command("list")
def prompts_list() -> None:
    """List the prompt sets."""
    console.print(prompt_sets_table())


@prompts_app.command("show")
def prompts_show(name: Annotated[str, typer.Argument(help="A prompt set's name, e.g. ja-cv.")]) -> None:
    """Show every prompt of one set with its reading and file name."""
    print_prompt_set(load_prompt_set(name), console)


def _run_app() -> int:
    app()  # standalone: usage errors print their message and raise SystemExit with the code
    return 0


def main() -> None:
    """Entry point: run the app, turning every failure into a message and an exit code."""
    sys.exit(run_reporting_errors(_run_app, console))
