"""Training configuration: one dataclass, read from a TOML file, overridable on the command line."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir


@dataclass
class TrainConfig:
    """Everything a training run needs; defaults are the bundled model's settings."""

    name: str = "crnn"
    height: int = 32
    max_width: int = 1600
    conv_filters: tuple[int, ...] = (32, 64, 96, 96, 128, 128)
    lstm_units: int = 128
    lstm_layers: int = 2
    width_downsample: int = 4  # 4, or 2 for twice the output frames per line
    dropout: float = 0.25
    ema_momentum: float = 0.0  # > 0: validate, keep and ship a moving average of the weights (e.g. 0.999)
    batch_size: int = 16
    learning_rate: float = 1e-3
    min_learning_rate: float = 5e-5
    lr_patience: int = 3
    lr_schedule: str = "plateau"  # plateau (halve when val CER stalls) | cosine (decay to min over all epochs)
    epochs: int = 60
    steps_per_epoch: int = 250
    early_stopping_patience: int = 8
    seed: int = 1
    # data (relative paths are relative to the checkout; ~ is expanded)
    iam_gt: str = ""  # IAM gt file (name<TAB>text); empty = no IAM
    iam_groups_file: str = ""  # the only groups allowed for training/validation
    val_groups: tuple[str, ...] = ("d05", "g04", "m03", "n03", "p01")
    iam_words: str = ""  # IAM words.txt; crops in iam_words_dir; empty = none
    iam_words_dir: str = ""
    iam_forms_file: str = ""  # the only forms of iam_words allowed
    iam_rebuilt_dir: str = ""  # cache of lines rebuilt from the word crops (default: beside iam_words)
    names_csv: str = ""  # Kaggle FILENAME,IDENTITY; images in names_dir; empty = none
    names_dir: str = ""
    names_val_from: int = 10001  # name crops numbered from here on are held back for validation
    val_font_lines: int = 0  # lines rendered in the held-out fonts (training.fonts.VALIDATION_FAMILIES); 0 = none
    extra_folders: tuple[str, ...] = ()  # plain folders of labelled images (licence permitting), read as lines
    other_folders: tuple[str, ...] = ()  # more such folders, a source of their own (e.g. other languages' hands)
    other_weight: float = 0.0  # their share of the real batches (beside line/word/name_weight); 0 = unused
    real_fraction: float = 0.55  # batches of real crops; the rest synthetic
    line_weight: float = 0.55  # shares of the real batches: IAM lines (given and rebuilt), words, names
    word_weight: float = 0.15
    name_weight: float = 0.3
    synth_line_fraction: float = 0.6  # of synthetic batches: lines; the rest words/names
    synth_form_fraction: float = 0.3  # of synthetic word batches: names in form fields (labels, boxes)
    synth_caps_lines: float = 0.0  # of synthetic lines: written wholly in block capitals
    synth_tracking: float = 0.0  # of synthetic lines and words: letters crowded or spread (see pipeline.tracking)
    synth_glyph_jitter: float = 0.0  # of synthetic lines and words: each letter its own slant, turn, size (synth)
    augment_x_scale: tuple[float, float] = (0.75, 1.25)  # range of the horizontal scales of augmented crops
    ink_gaps: float = 0.0  # of augmented crops, real and synthetic: strokes broken by pen skips and fading
    augment_zones: float = 0.0  # of augmented crops: the lower case drawn smaller or larger beside the capitals
    pad_extra: float = 0.0  # of batches: 64-512 px more paper after every crop (pipeline.batch_width)
    val_app_widths: bool = False  # validation also reads each crop padded as the app does; the score is that reading
    font_styles: bool = False  # also train on the training families' bold, hairline and italic styles
    checkpoint_every: int = 100  # steps between resumable checkpoints
    fonts_dir: str = ""
    init_from: str = ""  # .keras weights to fine-tune from
    init_partial: bool = False  # build this config's network and copy from init_from only the weights that fit
    freeze_bn: bool = False  # batch norm normalises with its moving statistics in training too, as the app does
    bn_recalibrate: int = 0  # new runs: first set batch norm's statistics to the mean of this many batches' own
    teacher: str = ""  # .keras network whose frame posteriors the run also learns (training/distill.py)
    distill_weight: float = 1.0  # with a teacher: loss = CTC + this x the frames' KL divergence from the teacher
    distill_temperature: float = 1.0  # softmax temperature of both networks in the divergence
    run_dir: str = field(default_factory=lambda: str(Path(user_cache_dir("htr-desktop")) / "runs"))
    strategy: str = "default"  # default | mirrored | multiworker
    workers: int = 2
    verbose: int = 1

    def path(self, value: str) -> Path:
        """A configured path: ``~`` expanded, relative paths taken from the checkout."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else Path(__file__).resolve().parent.parent / p

    @property
    def checkpoint_dir(self) -> Path:
        """Checkpoints and backups live outside the work tree."""
        return Path(self.run_dir) / self.name

    def __post_init__(self) -> None:
        lo_hi = tuple(self.augment_x_scale)
        if len(lo_hi) != 2 or not 0 < lo_hi[0] <= lo_hi[1]:
            raise ValueError(f"augment_x_scale must be [low, high] with 0 < low <= high (got {list(lo_hi)})")

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> TrainConfig:
        """Defaults, then the TOML file, then the overrides (None values ignored)."""
        values = read_toml(Path(path)) if path else {}
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name: f for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        for k, v in list(values.items()):
            if isinstance(getattr(cls(), k), tuple) and isinstance(v, list):
                values[k] = tuple(v)
        return cls(**values)


def read_toml(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file's values over those of the file its ``base`` key names (relative to it), recursively."""
    path = path.resolve()
    if path in seen:
        raise ValueError(f"config {path.name}: its base chain loops back to itself")
    values = tomllib.loads(path.read_text())
    base = values.pop("base", None)
    if base is None:
        return values
    if "name" not in values:
        raise ValueError(f"config {path.name} names a base but no run name of its own: it would resume its base's run")
    return read_toml(path.parent / base, (*seen, path)) | values
