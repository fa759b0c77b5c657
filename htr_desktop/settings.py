"""User settings in QSettings: one defaults table and typed getters/setters."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings

from model.decoder_config import LEGACY_NAMES

DEFAULTS: dict[str, Any] = {
    "model/path": "",  # "" = the bundled model, else a bundle folder chosen by the user
    "model/decoder": "",  # "" = the model's own default, else a name of model.decoder_config.DECODERS
    "recognition/auto": True,  # recognize whole images as soon as they are opened/dropped/pasted
    "recognition/layout": "auto",  # auto | page | line
    "preprocess/invert": False,  # light writing on a dark background (blackboards, negatives)
    "preprocess/denoise": False,  # median filter against scanner speckle
    "clipboard/auto_copy": False,
    "files/recent": [],
    "files/last_dir": "",
    "files/pdf_dpi": 200,  # resolution PDF pages are rendered at
    "files/batch_out": "",  # the last batch output folder
    "scan/device": "",
    "scan/resolution": 150,
    "scan/color": False,
    "session/folder": "",  # "" = the user data folder; set when the user chose another folder to save in
    "ui/geometry": b"",
}
RECENT_MAX = 10


class Settings:
    """Typed access to QSettings with the defaults above."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings()

    def get(self, key: str) -> Any:
        """The value of ``key`` converted to the type of its default."""
        default = DEFAULTS[key]
        value = self.store.value(key, default)
        if value is None:
            return default
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if isinstance(default, int):
            try:
                return int(value)  # type: ignore[call-overload]  # QSettings gives str or int
            except (TypeError, ValueError):
                return default
        if isinstance(default, list):
            if isinstance(value, str):
                return [value] if value else []
            return [str(v) for v in value] if isinstance(value, list | tuple) else default
        if isinstance(default, bytes):
            return bytes(value) if isinstance(value, bytes | bytearray) else default
        return str(value)

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` for ``key`` (must be a known key)."""
        if key not in DEFAULTS:
            raise KeyError(key)
        self.store.setValue(key, value)
        self.store.sync()

    @property
    def model_path(self) -> str:
        """The chosen model bundle folder ("" = bundled)."""
        return self.get("model/path")

    @property
    def decoder(self) -> str | None:
        """The chosen decoder (today's name), or None for the model's default."""
        value = self.get("model/decoder") or None
        return LEGACY_NAMES.get(value, value) if value else None

    @property
    def auto_recognize(self) -> bool:
        """Whether whole images are recognized as soon as they are opened."""
        return self.get("recognition/auto")

    @property
    def layout(self) -> str:
        """auto | page | line."""
        return self.get("recognition/layout")

    @property
    def preprocessing(self) -> dict[str, bool]:
        """The preprocessing toggles applied to images before recognition."""
        return {"invert": self.get("preprocess/invert"), "denoise": self.get("preprocess/denoise")}

    @property
    def auto_copy(self) -> bool:
        """Whether text is copied to the clipboard after each recognition."""
        return self.get("clipboard/auto_copy")

    def recent_files(self) -> list[str]:
        """Recently opened files, newest first."""
        return self.get("files/recent")

    def add_recent(self, path: str) -> None:
        """Put ``path`` at the top of the recent files."""
        recent = [p for p in self.recent_files() if p != path]
        self.set("files/recent", [path, *recent][:RECENT_MAX])
