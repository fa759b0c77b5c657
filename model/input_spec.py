"""The network input specification stored in model.json (no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class InputSpec:
    """How crops are scaled: fixed height, width by aspect ratio within [min_width, max_width]."""

    height: int = 32
    min_width: int = 16
    max_width: int = 1600
    width_step: int = 8  # widths are padded to a multiple of this (the network's downsampling)
    x_scale: float = 1.0  # widths times this after the aspect-preserving resize (a personal model's stretch)

    def to_json(self) -> dict[str, int | float | str]:
        """The spec as stored in model.json (``x_scale`` only when it stretches)."""
        stretch: dict[str, int | float | str] = {} if self.x_scale == 1.0 else {"x_scale": self.x_scale}
        return {
            "height": self.height,
            "min_width": self.min_width,
            "max_width": self.max_width,
            "width_step": self.width_step,
            "width_policy": "aspect-preserving resize to height; right-padded with paper (0) to a width bucket",
            **stretch,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> InputSpec:
        """Read the spec stored in model.json."""
        spec = cls(**{k: int(data[k]) for k in ("height", "min_width", "max_width", "width_step") if k in data})  # type: ignore[call-overload]
        scale = float(data.get("x_scale", 1.0))  # type: ignore[arg-type]
        if not 0.25 <= scale <= 4.0:
            raise ValueError(f"x_scale {scale} is outside 0.25..4")
        return replace(spec, x_scale=scale)
