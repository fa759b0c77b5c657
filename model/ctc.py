"""CTC loss and its gradient with respect to the logits, in numpy (blank = 0)."""

from __future__ import annotations

import numpy as np

_NEG = -1e30


def _logsumexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    m = np.maximum(a, b)
    return m + np.log(np.exp(a - m) + np.exp(b - m))


def ctc_loss_grad(logits: np.ndarray, labels: list[int]) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of ``labels`` under (T, C) ``logits`` and d loss / d logits (T, C)."""
    T, _ = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ext = np.zeros(2 * len(labels) + 1, dtype=np.int64)
    ext[1::2] = labels
    S = ext.size
    # a skip from s-2 to s is allowed when ext[s] is a label different from ext[s-2]
    skip = np.zeros(S, dtype=bool)
    skip[2:] = (ext[2:] != 0) & (ext[2:] != ext[:-2])
    lp = logp[:, ext]  # (T, S)
    alpha = np.full((T, S), _NEG)
    alpha[0, 0] = lp[0, 0]
    if S > 1:
        alpha[0, 1] = lp[0, 1]
    for t in range(1, T):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = _logsumexp(a[1:], prev[:-1])
        a[2:] = np.where(skip[2:], _logsumexp(a[2:], prev[:-2]), a[2:])
        alpha[t] = a + lp[t]
    beta = np.full((T, S), _NEG)
    beta[T - 1, S - 1] = lp[T - 1, S - 1]
    if S > 1:
        beta[T - 1, S - 2] = lp[T - 1, S - 2]
    skip_next = np.zeros(S, dtype=bool)
    skip_next[:-2] = skip[2:]
    for t in range(T - 2, -1, -1):
        nxt = beta[t + 1]
        b = nxt.copy()
        b[:-1] = _logsumexp(b[:-1], nxt[1:])
        b[:-2] = np.where(skip_next[:-2], _logsumexp(b[:-2], nxt[2:]), b[:-2])
        beta[t] = b + lp[t]
    log_like = _logsumexp(alpha[T - 1, S - 1], alpha[T - 1, S - 2]) if S > 1 else alpha[T - 1, 0]
    if not np.isfinite(log_like) or log_like < -1e29:  # label longer than the sequence allows
        return float("inf"), np.zeros_like(logits)
    post = np.exp(alpha + beta - lp - log_like)  # occupation of each extended label per frame
    occ = np.zeros_like(logits)
    np.add.at(occ.T, ext, post.T)
    grad = np.exp(logp) - occ
    return float(-log_like), grad
