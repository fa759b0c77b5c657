"""``--strategy multiworker`` really trains: two worker processes on loopback end with the same weights."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_workers_on_loopback_agree(tmp_path):
    import keras

    from training.fonts import fetch_fonts

    if not fetch_fonts(("caveat", "kalam")):
        pytest.skip("npm could not fetch @fontsource fonts")
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = []
    for index in range(2):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        cmd = [sys.executable, "-m", "training", "train", "--config", "training/configs/tiny.toml",
               "--strategy", "multiworker", "--run-dir", str(tmp_path), "--name", "mw", "--steps-per-epoch", "3",
               "--epochs", "1", "--verbose", "0"]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    chief_dir, worker_dir = tmp_path / "mw", tmp_path / "mw" / "worker1"
    states = [json.loads((d / "state.json").read_text()) for d in (chief_dir, worker_dir)]
    assert [s["step"] for s in states] == [3, 3] and all(s["finished"] for s in states)
    a = keras.models.load_model(chief_dir / states[0]["checkpoint"], compile=False).weights
    b = keras.models.load_model(worker_dir / states[1]["checkpoint"], compile=False).weights
    assert len(a) == len(b)
    different = [x.path for x, y in zip(a, b) if not np.allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)]
    # gradients are all-reduced: every trained weight is the same on both workers; only the batch-norm
    # moving statistics are each worker's own (Keras' default, unsynchronised batch norm; the chief's are kept)
    assert different and all(p.endswith(("moving_mean", "moving_variance")) for p in different), different
