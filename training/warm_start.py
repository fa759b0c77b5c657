"""Start a network of another shape (input height, widths) from a trained one: copy every weight that fits."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def copy_fitting_weights(target: Any, source: Any) -> list[str]:
    """Copy ``source``'s weights into ``target`` layer by layer (same name, same shape); return what stayed new.

    Convolutions do not depend on the input height, so a 48-px network keeps a 32-px one's conv stack, its
    upper recurrent layers and its output layer; only weights whose shape changed (e.g. the first BiLSTM's input
    kernels, which see more feature rows) keep their fresh initialisation.
    """
    fresh = []
    by_name = {layer.name: layer for layer in source.layers}
    for layer in target.layers:
        donor = by_name.get(layer.name)
        mine = layer.weights
        if not mine:
            continue
        if donor is None or len(donor.weights) != len(mine):
            fresh += [w.path for w in mine]
            continue
        for new, old in zip(mine, donor.weights, strict=True):
            if tuple(new.shape) == tuple(old.shape):
                new.assign(old)
            else:
                fresh.append(new.path)
    log.info("warm start: %d weights copied, %d fresh: %s",
             sum(len(layer.weights) for layer in target.layers) - len(fresh), len(fresh), ", ".join(fresh))
    return fresh


def _gate_columns(old_units: int, new_units: int) -> np.ndarray:
    """Where an LSTM's 4 gate blocks (i, f, c, o) of ``old_units`` columns sit among ``new_units`` columns."""
    return np.concatenate([g * new_units + np.arange(old_units) for g in range(4)])


def _bidirectional_rows(old_units: int, new_units: int) -> np.ndarray:
    """Where the forward and backward halves of an old BiLSTM output sit in the wider one."""
    return np.concatenate([np.arange(old_units), new_units + np.arange(old_units)])


def _widen_cell(kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray,
                old: tuple[np.ndarray, np.ndarray, np.ndarray], in_rows: np.ndarray | None) -> None:
    """Write one LSTM cell's old weights into its wider fresh ones, in place.

    New units keep their fresh incoming weights; everything they send to the old units (their recurrent rows,
    and their rows in the next layer's input kernel, handled through ``in_rows``) starts at zero, so the wider
    network computes exactly what the narrow one did until training moves those zeros.
    """
    old_kernel, old_recurrent, old_bias = old
    old_units, new_units = old_recurrent.shape[0], recurrent.shape[0]
    cols = _gate_columns(old_units, new_units)
    if in_rows is None:  # the layer's inputs did not change
        kernel[:, cols] = old_kernel
    else:
        kernel[np.setdiff1d(np.arange(kernel.shape[0]), in_rows), :] = 0.0
        kernel[np.ix_(in_rows, cols)] = old_kernel
    recurrent[old_units:, :] = 0.0
    recurrent[np.ix_(np.arange(old_units), cols)] = old_recurrent
    bias[cols] = old_bias


def widen_recurrent(target: Any, source: Any) -> list[str]:
    """Start a CRNN with wider BiLSTMs from a trained narrower one so that it computes the same function.

    Conv stacks must match. Returns the paths of the weights that were widened. The logits layer gets the old
    rows at the old units' places and zero rows for the new units.
    """
    widened: list[str] = []
    donors = {d.name for d in source.layers}
    in_rows: np.ndarray | None = None
    for layer in target.layers:
        if not layer.weights or layer.name not in donors:
            continue
        donor = source.get_layer(layer.name)
        if layer.name.startswith("bilstm"):
            mine, theirs = [w.numpy() for w in layer.weights], [w.numpy() for w in donor.weights]
            if mine[1].shape == theirs[1].shape:
                in_rows = None
                continue
            for half in (0, 3):  # forward cell, then backward cell: kernel, recurrent kernel, bias
                kernel, recurrent, bias = mine[half:half + 3]
                _widen_cell(kernel, recurrent, bias, old=(theirs[half], theirs[half + 1], theirs[half + 2]),
                            in_rows=in_rows)
            for var, value in zip(layer.weights, mine, strict=True):
                var.assign(value)
                widened.append(var.path)
            in_rows = _bidirectional_rows(theirs[1].shape[0], mine[1].shape[0])
        elif layer.name == "logits" and in_rows is not None:
            kernel = np.zeros(tuple(layer.weights[0].shape), dtype="float32")
            kernel[in_rows] = donor.weights[0].numpy()
            layer.weights[0].assign(kernel)
            layer.weights[1].assign(donor.weights[1].numpy())
            widened += [w.path for w in layer.weights]
    log.info("warm start: widened %s", ", ".join(widened) or "nothing")
    return widened


def widen_conv(target: Any, source: Any) -> list[str]:
    """Start a CRNN with wider conv stages from a trained narrower one so that it computes the same function.

    Old filters keep their places; new filters keep their fresh weights, and whatever reads them (the next
    stage's kernel rows, the first BiLSTM's input rows) starts at zero. Batch norm of new channels starts as
    identity statistics. BiLSTM widths must match (``widen_recurrent`` handles those). Returns what was widened.
    """
    widened: list[str] = []
    donors = {d.name for d in source.layers}
    new_in: int | None = None  # channels the current stage reads, in the wider network
    old_in: int | None = None
    for layer in target.layers:
        if not layer.weights or layer.name not in donors:
            continue
        donor = source.get_layer(layer.name)
        mine, theirs = [w.numpy() for w in layer.weights], [w.numpy() for w in donor.weights]
        if layer.name.startswith("conv"):
            kernel, old = mine[0], theirs[0]
            i_old, o_old = old.shape[2], old.shape[3]
            kernel[:, :, :, :o_old] = 0.0
            kernel[:, :, :i_old, :o_old] = old
            layer.weights[0].assign(kernel)
            new_in, old_in = kernel.shape[3], o_old
        elif layer.name.startswith("bn"):
            if mine[0].shape == theirs[0].shape:
                continue
            for var, new, old in zip(layer.weights, mine, theirs, strict=True):
                new[: old.shape[0]] = old
                var.assign(new)
        elif layer.name == "bilstm0" and new_in is not None and old_in is not None and new_in != old_in:
            rows_old = theirs[0].shape[0]
            feat_h = rows_old // old_in
            rows = np.concatenate([h * new_in + np.arange(old_in) for h in range(feat_h)])
            for k in (0, 3):  # forward and backward input kernels
                kernel = np.zeros_like(mine[k])
                kernel[rows] = theirs[k]
                layer.weights[k].assign(kernel)
            widened += [layer.weights[0].path, layer.weights[3].path]
            continue
        else:
            continue
        if mine[0].shape != theirs[0].shape:
            widened += [w.path for w in layer.weights]
    log.info("warm start: widened %s", ", ".join(widened) or "nothing")
    return widened
