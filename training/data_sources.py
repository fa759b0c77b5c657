"""What a training run reads: real sources (IAM lines, rebuilt IAM lines, IAM words, Kaggle names,
plain folders), validation sets and fonts, as its config asks. Counts go to ``data.json`` and model.json."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import numpy as np

from model.charset import Charset
from model.preprocess import InputSpec
from training.config import TrainConfig
from training.datasets import (
    Sample,
    iam_word_samples,
    read_folder,
    read_form_list,
    read_group_list,
    read_iam_gt,
    read_iam_word_boxes,
    read_kaggle_csv,
    split_by_groups,
    split_kaggle,
)
from training.fonts import fetch_font_styles, font_dir, style_dir
from training.iam_lines import rebuild_iam_lines
from training.pipeline import RealImage, Source, font_paths, load_real, prepare_validation
from training.synth import Font, load_fonts

log = logging.getLogger(__name__)


@dataclass
class ValidationTensors:
    """A validation set as the training loop scores it: prepared tensors with their texts (decoder tuning has
    ``training.validation.ValidationSet``, the network outputs)."""

    name: str
    items: list[tuple[np.ndarray, str]]
    ignore_case: bool = False


def iam_line_samples(cfg: TrainConfig) -> tuple[list[Sample], list[Sample]]:
    """(training, validation) IAM lines of the allowed groups; validation = ``val_groups``."""
    if not cfg.iam_gt:
        return [], []
    if not cfg.iam_groups_file:
        raise ValueError("iam_groups_file is required with iam_gt: only the allowed groups may be used")
    allowed = read_group_list(cfg.path(cfg.iam_groups_file))
    samples = split_by_groups(read_iam_gt(cfg.path(cfg.iam_gt)), allowed)
    val = [s for s in samples if s.group in set(cfg.val_groups)]
    return [s for s in samples if s.group not in set(cfg.val_groups)], val


def iam_word_sources(cfg: TrainConfig) -> tuple[list[Sample], list[Sample]]:
    """(word crops, rebuilt lines) of the allowed IAM forms."""
    if not cfg.iam_words:
        return [], []
    if not cfg.iam_forms_file:
        raise ValueError("iam_forms_file is required with iam_words: only the allowed forms may be used")
    forms = read_form_list(cfg.path(cfg.iam_forms_file))
    listing = cfg.path(cfg.iam_words)
    words = read_iam_word_boxes(listing, cfg.path(cfg.iam_words_dir), forms)
    rebuilt = cfg.path(cfg.iam_rebuilt_dir) if cfg.iam_rebuilt_dir else listing.parent / "rebuilt-lines"
    return iam_word_samples(words), rebuild_iam_lines(words, rebuilt)


def name_samples(cfg: TrainConfig) -> tuple[list[Sample], list[Sample]]:
    """(training, validation) Kaggle name crops; numbers from ``names_val_from`` on are validation."""
    if not cfg.names_csv:
        return [], []
    samples = read_kaggle_csv(cfg.path(cfg.names_csv), cfg.path(cfg.names_dir), only_existing=True)
    return split_kaggle(samples, cfg.names_val_from)


def held_out_font_lines(count: int) -> list[RealImage]:
    """Lines rendered in the held-out validation fonts (fetched into their own folder, never trained on)."""
    from training.fonts import VALIDATION_FAMILIES, fetch_fonts, validation_font_dir
    from training.render_eval import render_samples

    files = fetch_fonts(VALIDATION_FAMILIES, dest=validation_font_dir())
    if len(files) < len(VALIDATION_FAMILIES):
        log.warning("fonts validation: only %d of %d held-out families could be fetched",
                    len(files), len(VALIDATION_FAMILIES))
    try:
        return [RealImage(img, text) for img, text, _ in render_samples(files, "lines", count, seed=11)]
    except ValueError as exc:
        log.warning("fonts validation skipped: %s", exc)
        return []


def validation_tensors(cfg: TrainConfig, charset: Charset, spec: InputSpec, lines_val: list[Sample] | None = None,
                       names_val: list[Sample] | None = None) -> list[ValidationTensors]:
    """The run's validation sets, prepared: the held-back IAM lines and names (``iam_line_samples``' and
    ``name_samples``' second parts, read here when not given; the names case-insensitive) and the held-out-font
    lines."""
    n = cfg.workers
    lines_val = iam_line_samples(cfg)[1] if lines_val is None else lines_val
    names_val = name_samples(cfg)[1] if names_val is None else names_val
    val_sets = []
    if lines_val:
        val_sets.append(ValidationTensors("iam", prepare_validation(load_real(lines_val, charset, n), spec)))
    if names_val:
        val_sets.append(ValidationTensors("names", prepare_validation(load_real(names_val, charset, n), spec),
                                      ignore_case=True))
    held_out = held_out_font_lines(cfg.val_font_lines) if cfg.val_font_lines else []
    if held_out:
        val_sets.append(ValidationTensors("fonts", prepare_validation(held_out, spec)))
    return val_sets


def load_data(cfg: TrainConfig, charset: Charset, spec: InputSpec) -> tuple[list[Source], list[ValidationTensors],
                                                                              list[Font]]:
    """Real training sources, validation sets and fonts; writes the counts to ``<run>/data.json``."""
    lines, lines_val = iam_line_samples(cfg)
    words, rebuilt = iam_word_sources(cfg)
    names, names_val = name_samples(cfg)
    extra = [s for folder in cfg.extra_folders for s in read_folder(cfg.path(folder))]
    n = cfg.workers
    line_items = load_real(lines + rebuilt + extra, charset, n)
    other = [s for folder in cfg.other_folders for s in read_folder(cfg.path(folder))] if cfg.other_weight else []
    sources = [Source("lines", line_items, cfg.line_weight), Source("words", load_real(words, charset, n),
               cfg.word_weight), Source("names", load_real(names, charset, n), cfg.name_weight),
               Source("other", load_real(other, charset, n), cfg.other_weight)]
    val_sets = validation_tensors(cfg, charset, spec, lines_val, names_val)
    fonts = load_fonts(font_paths(cfg.fonts_dir or str(font_dir())), charset)
    if cfg.font_styles:
        fetch_font_styles()
        fonts += load_fonts(font_paths(str(style_dir())), charset)
    counts = {"iam_lines": len(lines), "iam_rebuilt_lines": len(rebuilt), "iam_words": len(words),
              "names": len(names), "extra": len(extra), **({"other": len(other)} if other else {}), "fonts": len(fonts),
              **{f"val_{v.name}": len(v.items) for v in val_sets}}
    log.info("data: %s", counts)
    cfg.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    (cfg.checkpoint_dir / "data.json").write_text(json.dumps(counts, indent=1))
    if not any(s.items for s in sources) and not fonts:
        raise ValueError("no training data: give iam_gt/iam_words/names_csv/extra_folders/other_folders or fetch "
                         "fonts")
    return sources, val_sets, fonts

