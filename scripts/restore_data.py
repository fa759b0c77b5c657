"""Rebuild ``~/.cache/htr-desktop/data`` on a new machine from git snapshots of the source repositories.

The repositories are the ones docs/training.md and docs/data.md name; fetch each (the search tool's ``fetch`` puts a
bare copy at ``MIRRORS/<owner>+<name>/repo``), then run ``python scripts/restore_data.py [--mirrors MIRRORS]``.
Only what training may read is copied out: IAM lines of the allowed form groups, IAM words of the allowed forms,
the Kaggle ``TRAIN_*`` crops and the train CSV, and the CC BY sets of docs/data.md (then cut into lines with
``python -m training import-xml-lines``, as docs/data.md does). Files absent from a snapshot are skipped and counted.
Sets already present are left alone.
"""

from __future__ import annotations

import argparse
import functools
import io
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from training.datasets import read_form_list, read_group_list

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"

IAM_LINES = "a-d-king+nlp-final-project"
IAM_WORDS = "om4kud+DS4002Project2"
NAME_IMAGES = "mcorgi+tuftsProject"
NAME_LABELS = "challa843+handwriting_recognition"
WORDS_DIR = "dataset/IAM Dataset/iam_words/words/"

# (folder, repository, commit, paths left out, import-xml-lines arguments): docs/data.md
XML_SETS = [
    ("lathrop-memorials", "PSL-Chartes-HTR-Students+HN2021-Memorials_Jane_Lathrop_Stanford",
     "9266adbc8aea6564b4b8447bcbe205ae1c1e87f2", (), []),
    ("testaments-de-poilus", "HTR-United+CREMMA-AN-TestamentsDePoilus", "8ffa4a8cd40f691d68f188e2ed1c6458bf2d6ec9", (),
     ["--val-fraction", "0.05", "--group-pattern", "will_[A-Z0-9]+_[0-9]+"]),
    ("timeus", "HTR-United+timeuscorpus", "df8ee63837dabe79c511e8aa748f465da5e2d5e5", ("/page/",),
     ["--val-fraction", "0.05", "--group-pattern", "[^/]+$", "--scale", "0.5"]),
    ("cremma-mss-19", "HTR-United+CREMMA-MSS-19", "d8f466de72561cd989f957d75a6743c5d8f0a262", (),
     ["--val-fraction", "0.05", "--scale", "0.5"]),
    ("cremma-mss-20", "HTR-United+CREMMA-MSS-20", "f737d0cb53d28edf1573c5956460bfdd58be6267", (),
     ["--val-fraction", "0.05", "--group-pattern", "[^/]+$"]),
    ("peraire", "alix-tz+peraire-ground-truth", "61b321ed05fc1d40e6c6e4351fd2162fd5bff478", (),
     ["--val-fraction", "0.05", "--group-pattern", "[^/]+$", "--marks", "#", "--scale", "0.5"]),
    ("celestine-doniau-danest", "alix-tz+dataset-celestine-doniau-danest", "645616d5cc8ffd0d84fd63284cde0647f17a1167",
     (), ["--val-fraction", "0.05", "--group-pattern", "[^/]+$"]),
]


class Snapshot:
    """Read files of one commit of a bare repository, telling absent objects apart."""

    def __init__(self, gitdir: Path, commit: str = "HEAD") -> None:
        self.gitdir, self.commit = gitdir, commit

    def files(self, under: str) -> Iterator[tuple[str, str]]:
        """(object id, path) of every file under ``under``."""
        out = subprocess.run(["git", "--git-dir", str(self.gitdir), "ls-tree", "-r", self.commit, "--", under],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            meta, path = line.split("\t", 1)
            yield meta.split()[2], path

    def copy(self, under: str, dest: Path, keep: Callable[[str], bool] = lambda _: True,
             strip: str = "") -> tuple[int, int]:
        """Copy the kept files under ``under`` to ``dest`` (paths less ``strip``); (copied, absent)."""
        copied = absent = 0
        with subprocess.Popen(["git", "--git-dir", str(self.gitdir), "cat-file", "--batch"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE) as cat:
            assert cat.stdin and cat.stdout
            for sha, path in self.files(under):
                if not keep(path):
                    continue
                cat.stdin.write(sha.encode() + b"\n")
                cat.stdin.flush()
                header = cat.stdout.readline().split()
                if header[-1] == b"missing":  # an object the snapshot lacks
                    absent += 1
                    continue
                target = dest / path.removeprefix(strip)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(cat.stdout.read(int(header[2])))
                cat.stdout.read(1)  # the newline after each object
                copied += 1
            cat.stdin.close()
        return copied, absent

    def show(self, path: str) -> bytes:
        """One file's bytes."""
        return subprocess.run(["git", "--git-dir", str(self.gitdir), "show", f"{self.commit}:{path}"],
                              capture_output=True, check=True).stdout


def iam_lines(mirrors: Path, data: Path, groups: set[str]) -> str:
    """IAM line images of the allowed form groups, and the labels."""
    snap = Snapshot(mirrors / IAM_LINES / "repo")
    dest = data / "iam-lines"
    (dest / "IAM").mkdir(parents=True, exist_ok=True)
    (dest / "IAM" / "gt_test.txt").write_bytes(snap.show("IAM/gt_test.txt"))
    copied, absent = snap.copy("IAM/image", dest, lambda p: Path(p).name.split("-")[0] in groups)
    return f"{copied} line images of {len(groups)} groups ({absent} absent)"


def iam_words(mirrors: Path, data: Path, forms: set[str]) -> str:
    """IAM word crops of the allowed forms, and the word list."""
    snap = Snapshot(mirrors / IAM_WORDS / "repo")
    dest = data / "iam-words"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "words_new.txt").write_bytes(snap.show("dataset/words_new.txt"))
    copied, absent = snap.copy(WORDS_DIR, dest / "words", lambda p: p.split("/")[-2] in forms, strip=WORDS_DIR)
    return f"{copied} word crops of {len(forms)} forms ({absent} absent)"


def names(mirrors: Path, data: Path) -> str:
    """Kaggle TRAIN_* name crops and the train CSV (never the VALIDATION_ or TEST_ ones)."""
    dest = data / "names"
    dest.mkdir(parents=True, exist_ok=True)
    csv = Snapshot(mirrors / NAME_LABELS / "repo").show("written_name_train_v2.csv.zip")
    zipfile.ZipFile(io.BytesIO(csv)).extract("written_name_train_v2.csv", dest)
    copied, absent = Snapshot(mirrors / NAME_IMAGES / "repo").copy(
        "train_v2_test/", dest, lambda p: Path(p).name.startswith("TRAIN_"))
    return f"{copied} TRAIN_ crops ({absent} absent)"


def xml_set(mirrors: Path, data: Path, name: str, repo: str, commit: str, leave: tuple[str, ...],
            import_args: list[str]) -> str:
    """A CC BY set's data/ folder at its commit, cut into lines."""
    raw = data / name
    snap = Snapshot(mirrors / repo / "repo", commit)
    copied, absent = snap.copy("data/", raw, lambda p: not any(x in p for x in leave))
    (raw / "SOURCE.txt").write_text(f"https://github.com/{repo.replace('+', '/')} {commit}\n")
    subprocess.run([sys.executable, "-m", "training", "import-xml-lines", str(raw / "data"),
                    "--out", str(data / f"{name}-lines"), *import_args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return f"{copied} files ({absent} absent), cut into {name}-lines"


def main(argv: list[str] | None = None) -> int:
    """Restore the sets not yet in the data folder; 0 when done."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"), help="folder of <owner>+<name>/repo")
    p.add_argument("--data", type=Path, default=Path("~/.cache/htr-desktop/data").expanduser())
    p.add_argument("--shared", type=Path, default=SHARED, help="folder with the allowed group and form lists")
    p.add_argument("--only", nargs="*", default=None, help="these folders only (e.g. iam-lines names timeus-lines)")
    args = p.parse_args(argv)
    groups = set(read_group_list(args.shared / "iam_train_groups.txt"))
    forms = read_form_list(args.shared / "iam_extra_forms.txt")
    steps: list[tuple[str, Callable[[], str]]] = [
        ("iam-lines", lambda: iam_lines(args.mirrors, args.data, groups)),
        ("iam-words", lambda: iam_words(args.mirrors, args.data, forms)),
        ("names", lambda: names(args.mirrors, args.data)),
    ]
    for xml in XML_SETS:
        steps.append((f"{xml[0]}-lines", functools.partial(xml_set, args.mirrors, args.data, *xml)))
    for folder, step in steps:
        if args.only is not None and folder not in args.only:
            continue
        if (args.data / folder).exists():
            print(f"{folder}: already there, left alone")
        else:
            print(f"{folder}: {step()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
