"""Loaders for labelled handwriting: IAM (lines/words.txt, gt), Kaggle CSV, plain folders."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from model.charset import normalize_text

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


@dataclass(frozen=True)
class Sample:
    """One labelled image on disk."""

    path: Path
    text: str

    @property
    def group(self) -> str:
        """IAM form group (``d01`` of ``d01-016-03``); the file stem's first part elsewhere."""
        return self.path.stem.split("-")[0]


def detokenize_iam(text: str) -> str:
    """Undo IAM's tokenisation: ``presto !`` -> ``presto!``, ``( x )`` -> ``(x)``, ``" a "`` -> ``"a"``."""
    tokens = re.sub(r"\s+", " ", text.replace("|", " ")).strip().split(" ")
    out = ""
    glue_next = False
    quote_open = False
    for tok in tokens:
        if not tok:
            continue
        attach = glue_next or not out
        if tok == '"':
            attach = attach or quote_open
            glue_next = not quote_open
            quote_open = not quote_open
        else:
            attach = attach or bool(_ATTACH_LEFT.fullmatch(tok))
            glue_next = tok in ("(", "[")
        out += tok if attach else " " + tok
    return normalize_text(out)


_ATTACH_LEFT = re.compile(r"[.,!?;:)\]]+|'s|'t|'ll|'re|'ve|'d|'m|n't")


def read_iam_gt(gt_file: Path, image_dir: Path | None = None) -> list[Sample]:
    """``name<TAB>text`` lines (e.g. ``gt_test.txt``); images in ``image_dir`` (default: ``image/``)."""
    image_dir = image_dir or gt_file.parent / "image"
    samples = []
    for line in gt_file.read_text(encoding="utf-8").splitlines():
        if not line.strip() or "\t" not in line:
            continue
        name, text = line.split("\t", 1)
        samples.append(Sample(image_dir / name.strip(), detokenize_iam(text)))
    return samples


def read_iam_ascii(listing: Path, image_root: Path, *, keep_err: bool = False) -> list[Sample]:
    """IAM ``lines.txt``/``words.txt``: ``id status ... text`` with images under ``image_root``.

    Line ids ``a01-000u-00`` live at ``a01/a01-000u/a01-000u-00.png`` (the original layout) or
    directly in ``image_root``; the status ``err`` lines are skipped unless ``keep_err``.
    """
    samples = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(" ")
        if len(parts) < 9:
            continue
        ident, status = parts[0], parts[1]
        if status == "err" and not keep_err:
            continue
        text = " ".join(parts[8:])
        form = "-".join(ident.split("-")[:2])
        nested = image_root / ident.split("-")[0] / form / f"{ident}.png"
        path = nested if nested.exists() else image_root / f"{ident}.png"
        samples.append(Sample(path, detokenize_iam(text)))
    return samples


def read_kaggle_csv(csv_file: Path, image_dir: Path, *, only_existing: bool = False) -> list[Sample]:
    """Kaggle handwritten-names CSV (``FILENAME,IDENTITY``) with images in ``image_dir``.

    Blank, ``UNREADABLE`` and ``EMPTY`` labels are skipped; ``only_existing`` keeps only rows whose image
    is in ``image_dir`` (a folder that holds a subset of the CSV's images).
    """
    present = {p.name for p in image_dir.iterdir()} if only_existing and image_dir.is_dir() else None
    samples = []
    with csv_file.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("FILENAME") or "").strip()
            ident = normalize_text(row.get("IDENTITY") or "")
            if not name or not ident or ident.upper() in ("UNREADABLE", "EMPTY"):
                continue
            if present is not None and name not in present:
                continue
            samples.append(Sample(image_dir / name, ident))
    return samples


def kaggle_number(sample: Sample) -> int:
    """The running number of ``TRAIN_00042.jpg`` (42); -1 if the name has none."""
    digits = sample.path.stem.rsplit("_", 1)[-1]
    return int(digits) if digits.isdigit() else -1


def split_kaggle(samples: list[Sample], first_val: int = 10001) -> tuple[list[Sample], list[Sample]]:
    """(training, validation): crops numbered ``first_val`` and above are held back for validation."""
    train = [s for s in samples if kaggle_number(s) < first_val]
    val = [s for s in samples if kaggle_number(s) >= first_val]
    return train, val


def read_folder(folder: Path) -> list[Sample]:
    """Images with a ``.txt`` sidecar each, or listed in ``labels.tsv`` (``file<TAB>text``)."""
    labels = folder / "labels.tsv"
    if labels.exists():
        samples = []
        for line in labels.read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                name, text = line.split("\t", 1)
                samples.append(Sample(folder / name.strip(), normalize_text(text)))
        return samples
    samples = []
    for image in sorted(folder.iterdir()):
        sidecar = image.with_suffix(".txt")
        if image.suffix.lower() in IMAGE_SUFFIXES and sidecar.exists():
            samples.append(Sample(image, normalize_text(sidecar.read_text(encoding="utf-8"))))
    return samples


def split_by_groups(samples: Iterable[Sample], groups: Iterable[str]) -> list[Sample]:
    """Keep only samples whose group is in ``groups``."""
    allowed = set(groups)
    return [s for s in samples if s.group in allowed]


def read_group_list(path: Path) -> list[str]:
    """One group name per line (``#`` comments allowed)."""
    return [g.strip() for g in path.read_text().splitlines() if g.strip() and not g.startswith("#")]


def read_form_list(path: Path) -> set[str]:
    """One IAM form id per line (``a01-000u``); ``#`` comments allowed."""
    return {f.strip() for f in path.read_text().splitlines() if f.strip() and not f.startswith("#")}


@dataclass(frozen=True)
class WordBox:
    """One IAM word: its crop on disk, its box on the form page, its transcription, its status."""

    ident: str
    path: Path
    box: tuple[int, int, int, int]
    text: str
    ok: bool

    @property
    def form(self) -> str:
        """Form id (``a01-000u`` of ``a01-000u-00-01``)."""
        return "-".join(self.ident.split("-")[:2])

    @property
    def line(self) -> str:
        """Line id (``a01-000u-00`` of ``a01-000u-00-01``)."""
        return "-".join(self.ident.split("-")[:3])


def read_iam_word_boxes(listing: Path, image_root: Path, forms: set[str] | None = None) -> list[WordBox]:
    """IAM ``words.txt`` (``id ok|err gray x y w h tag text``) of the given forms, in file order.

    Crops are looked up at ``image_root/a01/a01-000u/a01-000u-00-00.png``; a word whose crop is missing
    or empty is still listed (``path`` may not exist), so callers can tell a gap in a line.
    """
    out = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(" ")
        if len(parts) < 9:
            continue
        ident = parts[0]
        form = "-".join(ident.split("-")[:2])
        if forms is not None and form not in forms:
            continue
        try:
            box = (int(parts[3]), int(parts[4]), int(parts[5]), int(parts[6]))
        except ValueError:
            continue
        path = image_root / ident.split("-")[0] / form / f"{ident}.png"
        out.append(WordBox(ident, path, box, " ".join(parts[8:]), parts[1] == "ok"))
    return out


def iam_word_samples(words: list[WordBox]) -> list[Sample]:
    """Word crops usable for training: segmentation ``ok``, crop present and non-empty."""
    return [Sample(w.path, detokenize_iam(w.text)) for w in words
            if w.ok and w.box[2] > 0 and _non_empty(w.path)]


def _non_empty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def group_lines(words: list[WordBox]) -> dict[str, list[WordBox]]:
    """Words by line id, in reading order as listed."""
    lines: dict[str, list[WordBox]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    return lines


def line_text(words: list[WordBox]) -> str:
    """A line's text from its words, IAM tokenisation joined (`` 's``, `` n't``, space before punctuation)."""
    return detokenize_iam(" ".join(w.text for w in words))
