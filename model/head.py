"""The CRNN's last layers (k BiLSTMs + the logits layer) in numpy, forward and backward, for adaptation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


@dataclass
class LstmCache:
    """What one direction's forward pass over a batch keeps for the backward pass (batch first)."""

    x: np.ndarray  # (B, T, in)
    gates: np.ndarray  # (B, T, 4u)
    c: np.ndarray  # (B, T + 1, u)
    h: np.ndarray  # (B, T + 1, u)


def lstm_forward(x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> LstmCache:
    """One Keras LSTM direction over (B, T, in) ``x``, zero initial state; gates i, f, c, o."""
    B, T = x.shape[:2]
    u = recurrent.shape[0]
    pre = x @ kernel + bias  # (B, T, 4u)
    gates = np.empty((B, T, 4 * u), dtype=np.float32)
    c = np.zeros((B, T + 1, u), dtype=np.float32)
    h = np.zeros((B, T + 1, u), dtype=np.float32)
    for t in range(T):
        z = pre[:, t] + h[:, t] @ recurrent
        g = gates[:, t]
        g[:, : 2 * u] = _sigmoid(z[:, : 2 * u])
        g[:, 2 * u: 3 * u] = np.tanh(z[:, 2 * u: 3 * u])
        g[:, 3 * u:] = _sigmoid(z[:, 3 * u:])
        c[:, t + 1] = g[:, u: 2 * u] * c[:, t] + g[:, :u] * g[:, 2 * u: 3 * u]
        h[:, t + 1] = g[:, 3 * u:] * np.tanh(c[:, t + 1])
    return LstmCache(x, gates, c, h)


def lstm_backward(cache: LstmCache, dh_out: np.ndarray, kernel: np.ndarray,
                  recurrent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (dx, dkernel, drecurrent, dbias) from d loss / d h (B, T, u), summed over the batch."""
    B, T = dh_out.shape[:2]
    u = recurrent.shape[0]
    dz = np.empty((B, T, 4 * u), dtype=np.float32)
    dh = np.zeros((B, u), dtype=np.float32)
    dc = np.zeros((B, u), dtype=np.float32)
    g, c = cache.gates, cache.c
    tc_all = np.tanh(c[:, 1:])
    rec_t = np.ascontiguousarray(recurrent.T)
    for t in range(T - 1, -1, -1):
        gt = g[:, t]
        i, f, cc, o = gt[:, :u], gt[:, u: 2 * u], gt[:, 2 * u: 3 * u], gt[:, 3 * u:]
        tc = tc_all[:, t]
        dht = dh_out[:, t] + dh
        dct = dc + dht * o * (1 - tc * tc)
        d = dz[:, t]
        d[:, :u] = dct * cc * i * (1 - i)
        d[:, u: 2 * u] = dct * c[:, t] * f * (1 - f)
        d[:, 2 * u: 3 * u] = dct * i * (1 - cc * cc)
        d[:, 3 * u:] = dht * tc * o * (1 - o)
        dc = dct * f
        dh = d @ rec_t
    flat = dz.reshape(B * T, 4 * u)
    dx = dz @ kernel.T
    dkernel = cache.x.reshape(B * T, -1).T @ flat
    drecurrent = cache.h[:, :-1].reshape(B * T, u).T @ flat
    return dx, dkernel, drecurrent, flat.sum(axis=0)


def reverse_within(a: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reverse each row's first ``lengths[b]`` steps of (B, T, ...) ``a``; the padding after them stays put."""
    T = a.shape[1]
    t = np.arange(T)[None, :]
    idx = np.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)
    return np.take_along_axis(a, idx.reshape(idx.shape + (1,) * (a.ndim - 2)), axis=1)


@dataclass
class HeadCache:
    """What ``Head.forward_batch`` keeps for ``backward_batch``."""

    lengths: np.ndarray
    layers: list[tuple[LstmCache, LstmCache]]
    top: np.ndarray  # (B, T, features) input of the logits layer


@dataclass
class Head:
    """Weights of the adapted layers, keyed like ``TfliteWeights`` (the last ``layers`` BiLSTMs + logits).

    Sequences of different lengths run as one zero-padded batch; padded steps never reach a real step (each
    sequence is reversed within its own length for the backward direction) and get no gradient, so the results
    are those of running each sequence alone.
    """

    weights: dict[str, np.ndarray]
    first_layer: int  # index of the first BiLSTM in the head
    layers: int
    frozen: set[str] = field(default_factory=set)

    def forward_batch(self, xs: list[np.ndarray]) -> tuple[list[np.ndarray], HeadCache]:
        """(T_b, features) sequences -> their (T_b, classes) logits and the cache for ``backward_batch``."""
        lengths = np.array([len(x) for x in xs])
        x = np.zeros((len(xs), int(lengths.max()), xs[0].shape[1]), dtype=np.float32)
        for b, seq in enumerate(xs):
            x[b, : len(seq)] = seq
        mask = (np.arange(x.shape[1])[None, :] < lengths[:, None])[..., None]
        w = self.weights
        caches = []
        for j in range(self.first_layer, self.first_layer + self.layers):
            fwd = lstm_forward(x, w[f"bilstm{j}/forward/kernel"], w[f"bilstm{j}/forward/recurrent"],
                               w[f"bilstm{j}/forward/bias"])
            bwd = lstm_forward(reverse_within(x, lengths), w[f"bilstm{j}/backward/kernel"],
                               w[f"bilstm{j}/backward/recurrent"], w[f"bilstm{j}/backward/bias"])
            caches.append((fwd, bwd))
            x = np.concatenate([fwd.h[:, 1:], reverse_within(bwd.h[:, 1:], lengths)], axis=2) * mask
        logits = x @ w["logits/kernel"] + w["logits/bias"]
        return [logits[b, :n] for b, n in enumerate(lengths)], HeadCache(lengths, caches, x)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, HeadCache]:
        """(T, features) -> (T, classes) logits and the cache for ``backward``."""
        logits, cache = self.forward_batch([x])
        return logits[0], cache

    def backward_batch(self, dlogits: list[np.ndarray], cache: HeadCache) -> dict[str, np.ndarray]:
        """Gradients of every head weight from d loss / d logits of each sequence, summed over the batch."""
        w = self.weights
        lengths = cache.lengths
        B, T, F = cache.top.shape
        d = np.zeros((B, T, dlogits[0].shape[1]), dtype=np.float32)
        for b, g in enumerate(dlogits):
            d[b, : len(g)] = g
        grads = {"logits/kernel": cache.top.reshape(B * T, F).T @ d.reshape(B * T, -1),
                 "logits/bias": d.sum(axis=(0, 1))}
        dx = d @ w["logits/kernel"].T
        for k in range(self.layers - 1, -1, -1):
            j = self.first_layer + k
            if all(f"bilstm{j}/{dn}/{p}" in self.frozen for dn in ("forward", "backward")
                   for p in ("kernel", "recurrent", "bias")):
                break
            fwd, bwd = cache.layers[k]
            u = fwd.h.shape[2]
            dxf, *fg = lstm_backward(fwd, np.ascontiguousarray(dx[..., :u]), w[f"bilstm{j}/forward/kernel"],
                                     w[f"bilstm{j}/forward/recurrent"])
            dxb, *bg = lstm_backward(bwd, reverse_within(dx[..., u:], lengths), w[f"bilstm{j}/backward/kernel"],
                                     w[f"bilstm{j}/backward/recurrent"])
            for name, gs in (("forward", fg), ("backward", bg)):
                for p, g in zip(("kernel", "recurrent", "bias"), gs):
                    grads[f"bilstm{j}/{name}/{p}"] = g
            dx = dxf + reverse_within(dxb, lengths)
        return {k: v for k, v in grads.items() if k not in self.frozen}

    def backward(self, dlogits: np.ndarray, cache: HeadCache) -> dict[str, np.ndarray]:
        """Gradients of every head weight from d loss / d logits of one sequence."""
        return self.backward_batch([dlogits], cache)
