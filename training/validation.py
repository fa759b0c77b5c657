"""The two validation sets the decoder is tuned and measured on, and the network outputs for them.

- ``iam``: IAM lines of the held-back allowed groups (d05 g04 m03 n03 p01), writers not seen in training.
- ``names``: the 500 held-back Kaggle name crops ``TRAIN_10001.jpg`` .. ``TRAIN_10500.jpg`` (``UNREADABLE``,
  ``EMPTY`` and blank labels dropped); scored case-insensitively, the printed field labels are not in the labels.

``font_samples`` gives a third set, lines rendered in @fontsource families held out of training
(``training.fonts.VALIDATION_FAMILIES``): ``python -m training evaluate --set fonts``, and ``fonts`` in
``load_sets`` (``tune-decoder --sets iam,names,fonts`` tunes on all three, as models are chosen on them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from model.imageio import ImageError, load_image
from model.recognizer import Recognizer
from training.datasets import Sample, kaggle_number, read_folder, read_iam_gt, read_kaggle_csv, split_by_groups
from training.synth import RENDER_VERSION

log = logging.getLogger(__name__)

DATA = Path.home() / ".cache" / "htr-desktop" / "data"
IAM_GT = DATA / "iam-lines" / "IAM" / "gt_test.txt"
IAM_GROUPS = ("d05", "g04", "m03", "n03", "p01")
NAMES_CSV = DATA / "names" / "written_name_train_v2.csv"
NAMES_IMAGES = DATA / "names" / "train_v2_test"
NAMES_HELD_BACK = range(10001, 10501)  # TRAIN_10001.jpg .. TRAIN_10500.jpg


@dataclass
class ValidationSet:
    """Truths and network outputs (logits per crop, None for a blank crop) of one validation set."""

    name: str
    truths: list[str]
    outputs: list[np.ndarray | None]
    case_sensitive: bool

    def fold(self, text: str) -> str:
        """Text as compared: as is, or upper-cased for the names."""
        return text if self.case_sensitive else text.upper()


def iam_samples(gt: Path = IAM_GT, groups: tuple[str, ...] = IAM_GROUPS) -> list[Sample]:
    """The held-back IAM validation lines."""
    return split_by_groups(read_iam_gt(gt.expanduser()), groups)


def name_samples(csv_file: Path = NAMES_CSV, images: Path = NAMES_IMAGES) -> list[Sample]:
    """The 500 held-back Kaggle names (only ``TRAIN_10001`` .. ``TRAIN_10500``; never VALIDATION_/TEST_)."""
    samples = read_kaggle_csv(csv_file.expanduser(), images.expanduser())
    return [s for s in samples if s.path.name.startswith("TRAIN_") and kaggle_number(s) in NAMES_HELD_BACK]


def font_samples(count: int = 200) -> list[Sample]:
    """Lines in the held-out validation fonts, rendered once into ``~/.cache/htr-desktop/eval``."""
    import cv2

    from training.data_sources import held_out_font_lines

    folder = DATA.parent / "eval" / f"held-out-fonts-{count}-r{RENDER_VERSION}"
    if not (folder / "labels.tsv").exists():
        lines = held_out_font_lines(count)
        if not lines:
            raise SystemExit("the held-out validation fonts could not be fetched (npm)")
        folder.mkdir(parents=True, exist_ok=True)
        labels = []
        for i, line in enumerate(lines):
            cv2.imwrite(str(folder / f"line-{i:04d}.png"), line.image)
            labels.append(f"line-{i:04d}.png\t{line.text}")
        (folder / "labels.tsv").write_text("\n".join(labels) + "\n", encoding="utf-8")
    return read_folder(folder)


class SetSource(NamedTuple):
    """How to list a validation set's samples, and whether its CER is case-sensitive."""

    samples: Callable[[], list[Sample]]
    case_sensitive: bool


#: The validation sets by name (``evaluate --set``, ``compare --sets``, ``tune-decoder --sets``); the names are
#: scored case-insensitively.
SETS: dict[str, SetSource] = {"iam": SetSource(iam_samples, True), "names": SetSource(name_samples, False),
                               "fonts": SetSource(font_samples, True)}


def readable(samples: list[Sample]) -> list[tuple[Sample, np.ndarray]]:
    """The samples whose image loads, with the image (the others are skipped with a warning)."""
    loaded = []
    for s in samples:
        try:
            loaded.append((s, load_image(s.path)))
        except ImageError as exc:
            log.warning("skipping %s", exc)
    return loaded


def compute(rec: Recognizer, name: str, samples: list[Sample], case_sensitive: bool) -> ValidationSet:
    """Run the network once over a set, each line at its plain width whatever the bundle's dense-line setting (so
    that ``tune-decoder`` fits the same on an exported bundle and on one ``tune-dense`` has set); unreadable files are
    skipped with a warning."""
    loaded = readable(samples)
    truths = [rec.info.charset.filter(s.text) for s, _ in loaded]
    outputs = rec.outputs([img for _, img in loaded], stretch=1.0)
    log.info("%s: %d crops", name, len(truths))
    return ValidationSet(name, truths, outputs, case_sensitive)


def load_sets(rec: Recognizer, which: tuple[str, ...] = ("iam", "names")) -> list[ValidationSet]:
    """The validation sets whose data is on disk (a missing one is skipped with a warning)."""
    present = {"iam": IAM_GT.exists(), "names": NAMES_CSV.exists() and NAMES_IMAGES.is_dir(), "fonts": True}
    missing = {"iam": f"IAM validation lines not found at {IAM_GT}",
               "names": f"held-back names not found under {NAMES_IMAGES.parent}"}
    sets = []
    for name in (n for n in SETS if n in which):  # fonts: rendered once
        if present[name]:
            sets.append(compute(rec, name, SETS[name].samples(), SETS[name].case_sensitive))
        else:
            log.warning("%s", missing[name])
    return sets
