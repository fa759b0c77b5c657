"""The CRNN (CNN + BiLSTM + CTC) as a Keras model; imported by training and export only."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class NetworkSpec:
    """Shape of the CRNN: conv widths per stage, recurrent size, dropout."""

    conv_filters: tuple[int, ...] = (32, 64, 96, 96, 128, 128)
    lstm_units: int = 128
    lstm_layers: int = 2
    dropout: float = 0.25
    width_downsample: int = 4  # input columns per output frame: 4, or 2 (each conv column read twice by the BiLSTMs)

    def __post_init__(self) -> None:
        if self.width_downsample not in (2, 4):
            raise ValueError(f"width_downsample must be 2 or 4 (got {self.width_downsample})")

    def to_json(self) -> dict[str, Any]:
        """The spec as stored in model.json."""
        return {**asdict(self), "conv_filters": list(self.conv_filters)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetworkSpec:
        """Read the spec stored in model.json."""
        return cls(
            conv_filters=tuple(data.get("conv_filters", cls.conv_filters)),
            lstm_units=int(data.get("lstm_units", cls.lstm_units)),
            lstm_layers=int(data.get("lstm_layers", cls.lstm_layers)),
            dropout=float(data.get("dropout", cls.dropout)),
            width_downsample=int(data.get("width_downsample", cls.width_downsample)),
        )


# Pooling after each conv stage: (height, width). The conv stack downsamples width 4x in total.
_POOLS = ((2, 2), (2, 2), None, (2, 1), None, (2, 1))


def build_crnn(height: int, num_classes: int, spec: NetworkSpec, batch_size: int | None = None,
               training_dropout: bool = True, api: Any = None) -> Any:
    """Build the CRNN; input (batch, height, width, 1) ink map, output (batch, width/4 or /2, classes) logits.

    ``api`` is the Keras module to build with: Keras 3 (default) or ``tf_keras``, whose LSTM layers the
    TFLite converter turns into fused LSTM ops (same layers, names and weight order).
    """
    if api is None:
        import keras

        api = keras
    layers = api.layers

    inputs = api.Input(shape=(height, None, 1), batch_size=batch_size, name="image")
    x = inputs
    for i, filters in enumerate(spec.conv_filters):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        pool = _POOLS[i] if i < len(_POOLS) else None
        if pool:
            x = layers.MaxPooling2D(pool, name=f"pool{i}")(x)
    feat_h = height // 16
    # (b, h, w, c) -> (b, w, h*c)
    x = layers.Permute((2, 1, 3), name="to_sequence")(x)
    x = layers.Reshape((-1, feat_h * spec.conv_filters[-1]), name="flatten_height")(x)
    drop = spec.dropout if training_dropout else 0.0
    x = layers.Dropout(drop, name="drop_features")(x)
    if spec.width_downsample == 2:  # twice the frames for CTC (dense writing): each feature column comes twice
        x = layers.UpSampling1D(2, name="repeat_frames")(x)
    for j in range(spec.lstm_layers):
        x = layers.Bidirectional(layers.LSTM(spec.lstm_units, return_sequences=True), name=f"bilstm{j}")(x)
        x = layers.Dropout(drop, name=f"drop_lstm{j}")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    return api.Model(inputs, logits, name="crnn")
