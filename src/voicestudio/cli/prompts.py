"""`voicestudio prompts`: what can be recorded."""

from rich.console import Console
from rich.table import Table

from voicestudio.domain import PromptSet
from voicestudio.text.prompts import list_prompt_sets


def prompt_sets_table() -> Table:
    """Every prompt set with its language, kind and size."""
    table = Table(title="Prompt sets")
    for column in ("name", "title", "language", "kind", "prompts"):
        table.add_column(column)
    for prompt_set in list_prompt_sets():
        table.add_row(
            prompt_set.name,
            prompt_set.title,
            prompt_set.language,
            prompt_set.kind,
            str(len(prompt_set)),
        )
    return table


def prompt_set_table(prompt_set: PromptSet) -> Table:
    """Every prompt of one set: what to say, its reading and the file it is saved as."""
    table = Table(title=f"{prompt_set.name}: {prompt_set.title} ({len(prompt_set)} prompts)")
    for column in ("#", "prompt", "reading", "file"):
        table.add_column(column, overflow="fold")
    for number, prompt in enumerate(prompt_set.prompts, start=1):
        table.add_row(str(number), prompt.text, prompt.reading, prompt.wav_name)
    return table


def print_prompt_set(prompt_set: PromptSet, console: Console) -> None:
    """The set's table, then its description."""
    console.print(prompt_set_table(prompt_set))
    if prompt_set.description:
        console.print(prompt_set.description)
