"""What every bench/ script prints beside its figures: the machine it ran on, and the table itself."""

import os
import platform
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table


def machine() -> str:
    """CPU model and core count, as /proc/cpuinfo and the OS report them."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {usable} cores usable ({os.cpu_count()} online), Python {platform.python_version()}"


def print_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool, text_columns: int = 1
) -> None:
    """The figures as a terminal table, or as Markdown to paste into bench/RESULTS.md; the first
    `text_columns` columns are left-aligned, the numbers right-aligned."""
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * text_columns + "---:|" * (len(header) - text_columns))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    table = Table()
    for index, column in enumerate(header):
        table.add_column(column, justify="left" if index < text_columns else "right")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
