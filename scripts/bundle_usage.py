"""Which shared libraries and plugins of a one-folder bundle the app really loads (stdlib only).

``python scripts/bundle_usage.py dist/htr-desktop/htr-desktop [--seconds 8]`` runs the executable as a user
would -- the window (under Xvfb if ``xvfb-run`` exists, else offscreen) with the shipped sample open, then
``recognize`` over several images, then ``serve`` answering one request -- and samples ``/proc/<pid>/maps`` of
the process and its worker processes. It prints the bundle's ``.so`` files that were mapped and those never
mapped (with sizes): the list to check before dropping anything from ``build.spec``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def mapped(pid: int, root: Path) -> set[str]:
    """Files under ``root`` mapped by ``pid``'s process tree now."""
    files = set()
    for p in tree(pid):
        try:
            lines = Path(f"/proc/{p}/maps").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and parts[5].startswith(str(root)):
                files.add(os.path.relpath(parts[5].split(" (deleted)")[0], root))
    return files


def watch(proc: subprocess.Popen[bytes], root: Path, seconds: float,
          during: Callable[[], None] | None = None) -> set[str]:
    """Sample the maps of a running process tree for ``seconds`` (calling ``during()`` once it runs)."""
    seen: set[str] = set()
    end = time.monotonic() + seconds
    called = False
    while time.monotonic() < end and proc.poll() is None:
        seen |= mapped(proc.pid, root)
        if during is not None and not called and time.monotonic() > end - seconds / 2:
            during()
            called = True
            seen |= mapped(proc.pid, root)
        time.sleep(0.2)
    return seen


def main() -> int:
    """Run the scenarios and print the report."""
    p = argparse.ArgumentParser()
    p.add_argument("exe", type=Path)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--json", type=Path, help="also write the report here")
    args = p.parse_args()
    exe = args.exe.resolve()
    root = exe.parent
    sample = root / "_internal" / "resources" / "samples" / "sample-line.png"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    seen: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        images = []
        for i in range(12):
            images.append(Path(tmp, f"{i}.png"))
            shutil.copy(sample, images[-1])
        if shutil.which("xvfb-run"):
            gui = subprocess.Popen(["xvfb-run", "-a", str(exe), str(sample)], cwd=tmp, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        else:
            gui = subprocess.Popen([str(exe), str(sample)], cwd=tmp, env={**env, "QT_QPA_PLATFORM": "offscreen"},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        seen["window"] = watch(gui, root, args.seconds)
        os.killpg(gui.pid, signal.SIGTERM)  # xvfb-run, the window and its worker processes
        gui.wait(30)
        cli = subprocess.Popen([str(exe), "recognize", "--json", *map(str, images * 4)], cwd=tmp, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen["recognize"] = watch(cli, root, args.seconds)
        cli.wait(300)
        server = subprocess.Popen([str(exe), "serve"], cwd=tmp, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        first = json.loads(server.stdout.readline())

        def ask() -> None:
            req = urllib.request.Request(first["url"] + "/recognize", data=sample.read_bytes(), method="POST",
                                         headers={"Authorization": f"Bearer {first['token']}"})
            urllib.request.urlopen(req, timeout=120).read()

        seen["serve"] = watch(server, root, args.seconds, during=ask)
        server.terminate()
        server.wait(30)
    used = set().union(*seen.values())
    libs = {str(f.relative_to(root)): f.stat().st_size for f in root.rglob("*")
            if f.is_file() and not f.is_symlink() and (f.suffix == ".so" or ".so." in f.name)}
    unused = {k: v for k, v in libs.items() if k not in used}
    report = {"scenarios": {k: sorted(v) for k, v in seen.items()},
              "never_mapped": dict(sorted(unused.items(), key=lambda kv: -kv[1]))}
    print(f"{len(used)} bundle files mapped; {len(unused)} shared libraries never mapped "
          f"({sum(unused.values()) / 2**20:.1f} MiB):")
    for name, size in report["never_mapped"].items():
        print(f"  {size / 2**20:6.2f} MiB  {name}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
