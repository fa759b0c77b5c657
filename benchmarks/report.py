"""Write one named section of docs/benchmarks.md, leaving the other sections alone."""

from __future__ import annotations

import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nMeasured on this project's 2-core, no-GPU machine. Medians unless stated.\n"


def machine() -> str:
    """A one-line description of the machine."""
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def load_note() -> str:
    """The 1-minute load average, flagged as provisional when other work shares the cores."""
    import os

    load = os.getloadavg()[0]
    if load > 1.5:
        return f"**taken under load (load average {load:.1f} on {os.cpu_count()} CPUs): provisional**"
    return f"load average {load:.1f}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section delimited by ``<!-- name:start -->`` / ``<!-- name:end -->``."""
    DOC.parent.mkdir(exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    block = f"<!-- {name}:start -->\n{body.strip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def publish(name: str, body: str, write: bool) -> int:
    """Print the section and write it into docs/benchmarks.md unless ``write`` is False; exit code 0."""
    print(body)
    if write:
        write_section(name, body)
    return 0

