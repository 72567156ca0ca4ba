"""A rich progress bar fed by the same `on_progress` callbacks the worker feeds the page with."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from voicestudio.domain import Progress, ProgressCallback


@contextmanager
def progress_bar(label: str, console: Console) -> Iterator[ProgressCallback]:
    """Yield a callback that advances a bar named `label`; the bar disappears when the block ends."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None, item="")

        def update(progress: Progress) -> None:
            bar.update(task, completed=progress.done, total=progress.total, item=progress.item)

        yield update
