"""Start a network of another shape (input height, widths) from a trained one: copy every weight that fits."""

from __future__ import annotations

import logging
from typing import Any

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
