"""Write a benchmark's Markdown table into its own section of docs/benchmarks.md."""

from __future__ import annotations

import platform
import re
import sys
import time
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEach section is written by the script it names; rerun the command to refresh it.\n"


def machine() -> str:
    """A short description of where the numbers were taken."""
    import os

    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def write_section(title: str, body: str, *, command: str | None = None, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the ``## title`` section, stamped with date, machine and command."""
    command = command or "python " + " ".join(sys.argv)
    stamp = f"_Measured {time.strftime('%Y-%m-%d')} on {machine()}; command: `{command}`._"
    section = f"## {title}\n\n{stamp}\n\n{body.strip()}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
