"""The self-describing model bundle: ``model.json`` + ``.tflite`` (+ ``.keras`` for fine-tuning)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from model.charset import Charset
from model.decoder_config import DecoderConfig
from model.input_spec import InputSpec

BUNDLE_FORMAT = 1
#: Top-level keys of model 0.1's ``model.json`` that now live in the ``decoder`` object.
LEGACY_DECODER_KEYS = ("lexicon", "lexicon_params", "beam_width", "beam_prune")


class ModelError(RuntimeError):
    """A missing or unusable model bundle; the message is meant for users."""


@dataclass
class ModelInfo:
    """What ``model.json`` says about a bundle."""

    version: str
    charset: Charset
    input_spec: InputSpec
    tflite: dict[int, str]  # batch size -> file name
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    trained_on: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The dict written to ``model.json``."""
        return {
            "format": BUNDLE_FORMAT,
            "version": self.version,
            "charset": self.charset.chars,
            "input": self.input_spec.to_json(),
            "tflite": {str(k): v for k, v in sorted(self.tflite.items())},
            "decoder": self.decoder.to_json(),
            "trained_on": self.trained_on,
            "figures": self.figures,
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelInfo:
        """Parse ``model.json``; raises ModelError on missing keys."""
        try:
            known = {"format", "version", "charset", "input", "tflite", "decoder", "trained_on", "figures",
                     *LEGACY_DECODER_KEYS}
            return cls(
                version=str(data["version"]),
                charset=Charset(data["charset"]),
                input_spec=InputSpec.from_json(data["input"]),
                tflite={int(k): str(v) for k, v in data["tflite"].items()},
                decoder=DecoderConfig.from_json(data.get("decoder", "greedy"), legacy=data),
                trained_on=list(data.get("trained_on", [])),
                figures=dict(data.get("figures", {})),
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model.json is incomplete or invalid ({exc})") from None


def bundled_model_dir() -> Traversable:
    """The model shipped with the app (works from a wheel and from a PyInstaller bundle)."""
    return resources.files("resources") / "model"


def model_folder(path: str | os.PathLike[str] | None) -> Traversable | Path:
    """The bundled model's folder (``None``) or the folder at ``path``; raises ModelError if it is not a folder."""
    if path is None:
        return bundled_model_dir()
    folder = Path(path)
    if folder.is_dir():
        return folder
    if folder.exists():
        raise ModelError(f"not a model folder: {folder} is a file (give the folder that holds model.json)")
    raise ModelError(f"model folder not found: {folder}")


def read_info(folder: Traversable | Path) -> ModelInfo:
    """Read and validate a bundle's ``model.json``."""
    path = folder / "model.json"
    if not path.is_file():
        raise ModelError(f"no model found: {path} is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model.json cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise ModelError("model.json is not a JSON object")
    return ModelInfo.from_json(data)


def write_info(folder: Path, info: ModelInfo) -> None:
    """Write ``model.json``."""
    (folder / "model.json").write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")
