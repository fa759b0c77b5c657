"""The CRNN's last layers (k BiLSTMs + the logits layer) in numpy, forward and backward, for adaptation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


@dataclass
class LstmCache:
    """What one direction's forward pass keeps for the backward pass."""

    x: np.ndarray
    gates: np.ndarray
    c: np.ndarray
    h: np.ndarray


def lstm_forward(x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> LstmCache:
    """One Keras LSTM direction over (T, in) ``x``; gates i, f, c, o."""
    T = x.shape[0]
    u = recurrent.shape[0]
    pre = x @ kernel + bias  # (T, 4u)
    gates = np.empty((T, 4 * u), dtype=np.float32)
    c = np.zeros((T + 1, u), dtype=np.float32)
    h = np.zeros((T + 1, u), dtype=np.float32)
    for t in range(T):
        z = pre[t] + h[t] @ recurrent
        g = gates[t]
        g[: 2 * u] = _sigmoid(z[: 2 * u])
        g[2 * u: 3 * u] = np.tanh(z[2 * u: 3 * u])
        g[3 * u:] = _sigmoid(z[3 * u:])
        c[t + 1] = g[u: 2 * u] * c[t] + g[:u] * g[2 * u: 3 * u]
        h[t + 1] = g[3 * u:] * np.tanh(c[t + 1])
    return LstmCache(x, gates, c, h)


def lstm_backward(cache: LstmCache, dh_out: np.ndarray, kernel: np.ndarray,
                  recurrent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dkernel, drecurrent, dbias) from d loss / d h (T, u)."""
    T = dh_out.shape[0]
    u = recurrent.shape[0]
    dz = np.empty((T, 4 * u), dtype=np.float32)
    dh = np.zeros(u, dtype=np.float32)
    dc = np.zeros(u, dtype=np.float32)
    g, c = cache.gates, cache.c
    for t in range(T - 1, -1, -1):
        i, f, cc, o = g[t, :u], g[t, u: 2 * u], g[t, 2 * u: 3 * u], g[t, 3 * u:]
        tc = np.tanh(c[t + 1])
        dht = dh_out[t] + dh
        dct = dc + dht * o * (1 - tc * tc)
        d = dz[t]
        d[:u] = dct * cc * i * (1 - i)
        d[u: 2 * u] = dct * c[t] * f * (1 - f)
        d[2 * u: 3 * u] = dct * i * (1 - cc * cc)
        d[3 * u:] = dht * tc * o * (1 - o)
        dc = dct * f
        dh = d @ recurrent.T
    dx = dz @ kernel.T
    return dx, cache.x.T @ dz, cache.h[:-1].T @ dz, dz.sum(axis=0)


@dataclass
class Head:
    """Weights of the adapted layers, keyed like ``TfliteWeights`` (the last ``layers`` BiLSTMs + logits)."""

    weights: dict[str, np.ndarray]
    first_layer: int  # index of the first BiLSTM in the head
    layers: int
    frozen: set[str] = field(default_factory=set)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """(T, features) -> (T, classes) logits and the caches for ``backward``."""
        caches: list[Any] = []
        for j in range(self.first_layer, self.first_layer + self.layers):
            w = self.weights
            fwd = lstm_forward(x, w[f"bilstm{j}/forward/kernel"], w[f"bilstm{j}/forward/recurrent"],
                               w[f"bilstm{j}/forward/bias"])
            bwd = lstm_forward(x[::-1], w[f"bilstm{j}/backward/kernel"], w[f"bilstm{j}/backward/recurrent"],
                               w[f"bilstm{j}/backward/bias"])
            caches.append((fwd, bwd))
            x = np.concatenate([fwd.h[1:], bwd.h[1:][::-1]], axis=1)
        caches.append(x)
        return x @ self.weights["logits/kernel"] + self.weights["logits/bias"], caches

    def backward(self, dlogits: np.ndarray, caches: list[Any]) -> dict[str, np.ndarray]:
        """Gradients of every head weight from d loss / d logits."""
        w = self.weights
        x = caches[-1]
        grads = {"logits/kernel": x.T @ dlogits, "logits/bias": dlogits.sum(axis=0)}
        dx = dlogits @ w["logits/kernel"].T
        for k in range(self.layers - 1, -1, -1):
            j = self.first_layer + k
            fwd, bwd = caches[k]
            u = fwd.h.shape[1]
            if all(f"bilstm{j}/{d}/{p}" in self.frozen for d in ("forward", "backward")
                   for p in ("kernel", "recurrent", "bias")):
                break
            for name, cache, dh in (("forward", fwd, dx[:, :u]), ("backward", bwd, dx[::-1, u:])):
                dxi, dk, dr, db = lstm_backward(cache, np.ascontiguousarray(dh), w[f"bilstm{j}/{name}/kernel"],
                                                w[f"bilstm{j}/{name}/recurrent"])
                grads[f"bilstm{j}/{name}/kernel"] = dk
                grads[f"bilstm{j}/{name}/recurrent"] = dr
                grads[f"bilstm{j}/{name}/bias"] = db
                if name == "forward":
                    dx_next = dxi
                else:
                    dx_next = dx_next + dxi[::-1]
            dx = dx_next
        return {k: v for k, v in grads.items() if k not in self.frozen}
