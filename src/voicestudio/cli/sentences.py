"""`voicestudio oto-sentences`: an UTAU bank cut from paragraph takes, and what it covers and lacks."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Final

import typer
from rich.console import Console
from rich.table import Table

from voicestudio.cli.oto import TextEncoding
from voicestudio.cli.progress import progress_bar
from voicestudio.domain import Progress, ProgressCallback
from voicestudio.oto import normalize_encoding
from voicestudio.oto.generate import LOW_CONFIDENCE
from voicestudio.oto.sentences import SentenceBank, sentence_bank_from_folder
from voicestudio.oto.units import UnitStyle
from voicestudio.text.prompts import load_prompt_set

LISTED_MAX = 12  # aliases, morae or file names named in one summary row


STYLES: Final[dict[str, UnitStyle]] = {"cv": "cv", "cvvc": "cvvc"}  # what --style accepts


def oto_sentences_command(
    folder: Path,
    prompts: str,
    out: Path,
    style: str,
    head: bool,
    encoding: TextEncoding,
    console: Console,
) -> int:
    """Cut the bank into OUT with its oto.ini, print the summary and how to pack it; exit code 0."""
    if style not in STYLES:
        raise typer.BadParameter(f"{style!r} is not one of {', '.join(STYLES)}.", param_hint="'--style'")
    prompt_set = load_prompt_set(prompts)
    codec = normalize_encoding(encoding.value)
    unit_style = STYLES[style]
    with stage_bars(console) as on_progress:
        bank = sentence_bank_from_folder(
            folder, prompt_set, out, unit_style, head=head, encoding=codec, on_progress=on_progress
        )
    print_bank_summary(bank, encoding, console)
    pack = f"voicestudio build-voicebank {out} --name NAME --out NAME.zip"
    if encoding is not TextEncoding.shift_jis:
        pack += f" --encoding {encoding.value}"
    console.print(f"Pack it: {pack}", highlight=False)
    return 0


@contextmanager
def stage_bars(console: Console) -> Iterator[ProgressCallback]:
    """A callback that shows each stage ("align", "cut") on a bar of its own, one after the other."""
    with ExitStack() as stack:
        bars: dict[str, ProgressCallback] = {}

        def update(progress: Progress) -> None:
            if progress.stage not in bars:
                stack.close()  # the previous stage's bar goes away
                bars[progress.stage] = stack.enter_context(progress_bar(progress.stage, console))
            bars[progress.stage](progress)

        yield update


def print_bank_summary(bank: SentenceBank, encoding: TextEncoding, console: Console) -> None:
    """A table of what the bank holds and lacks, then every skipped take with what to do."""
    table = Table(title=f"Sentence bank in {bank.folder}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("result", overflow="fold")
    table.add_row("units written", f"{len(bank.entries)} wavs and {bank.oto_path.name} ({encoding.value})")
    coverage = f"{len(bank.covered_morae)}/{bank.morae_total} CV morae"
    if bank.missing_morae:
        coverage += f"; missing: {_listed(bank.missing_morae)}"
    table.add_row("coverage", coverage)
    takes = len(bank.takes_used) + len(bank.skipped)
    table.add_row("takes used", f"{len(bank.takes_used)} of {takes}")
    low = [entry.alias for entry in bank.entries if entry.confidence < LOW_CONFIDENCE]
    table.add_row(
        "low confidence",
        f"{_count(len(low), 'line')} to look at (below {LOW_CONFIDENCE}): {_listed(low)}" if low else "none",
    )
    if bank.ignored:
        table.add_row(
            "ignored", f"{_count(len(bank.ignored), 'wav')} named by no prompt: {_listed(bank.ignored)}"
        )
    if bank.unstorable_aliases:
        table.add_row(
            "left out",
            f"{_listed(bank.unstorable_aliases)}: {encoding.value} cannot store them; use --encoding utf-8",
        )
    console.print(table)
    if bank.skipped:
        skipped = Table(title=f"{_count(len(bank.skipped), 'take')} skipped: not in the bank")
        skipped.add_column("file", overflow="fold")
        skipped.add_column("what is wrong, what to do", overflow="fold")
        for take in bank.skipped:
            skipped.add_row(take.wav_name, take.reason)
        console.print(skipped)


def _listed(names: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(names[:LISTED_MAX])
    return shown + (f" and {len(names) - LISTED_MAX} more" if len(names) > LISTED_MAX else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
