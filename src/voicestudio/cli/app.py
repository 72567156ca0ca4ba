"""The one `voicestudio` command; every subcommand is a thin shell over a library function."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from voicestudio import __version__
from voicestudio.align.take import align_take_file
from voicestudio.cli.check import check_command
from voicestudio.cli.errors import run_reporting_errors
from voicestudio.cli.prompts import print_prompt_set, prompt_sets_table
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
    text: Annotated[str, typer.Option("--text", help="What was said, as written (kana/kanji or words).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the phones: FILE.TextGrid or FILE.lab.")],
    lang: Annotated[Language, typer.Option("--lang", help="The take's language.")] = Language.ja,
) -> None:
    """Find where each phone of TEXT starts and ends in WAV."""
    alignment = align_take_file(wav, text, lang, out)
    low = sum(1 for segment in alignment.segments if segment.score < LOW_SCORE)
    console.print(f"Wrote {len(alignment.segments)} phones to {out} ({low} with a low score).")


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
