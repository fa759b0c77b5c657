"""Training resumes to the step: stop after N steps, resume, and end where an uninterrupted run ends."""

import json

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def _weights(path):
    import keras

    model = keras.models.load_model(path, compile=False)
    return [np.asarray(w) for w in model.weights]


def _config(root, name):
    from training.config import TrainConfig

    return TrainConfig.load("training/configs/tiny.toml", run_dir=str(root), name=name, epochs=2,
                            steps_per_epoch=4, checkpoint_every=2, verbose=0, dropout=0.25)


def test_stop_and_resume_equals_uninterrupted(tmp_path):
    import tensorflow as tf

    from training.fonts import fetch_fonts
    from training.train import RunState, train

    if not fetch_fonts(("caveat", "kalam")):
        pytest.skip("npm could not fetch @fontsource fonts")
    tf.config.experimental.enable_op_determinism()
    whole = _config(tmp_path, "whole")
    train(whole)
    parts = _config(tmp_path, "parts")
    train(parts, stop_after=3)  # stops mid-epoch, between two periodic checkpoints
    state = RunState.read(parts.checkpoint_dir / "state.json")
    assert state is not None and state.step == 3 and not state.finished
    assert (parts.checkpoint_dir / state.checkpoint).exists()
    train(parts)  # a new call, as after a crash: resumes at step 3
    done = RunState.read(parts.checkpoint_dir / "state.json")
    assert done is not None and done.finished and done.step == 8
    ref = RunState.read(whole.checkpoint_dir / "state.json")
    assert [h["loss"] for h in done.history] == [h["loss"] for h in ref.history]
    a = _weights(whole.checkpoint_dir / ref.checkpoint)
    b = _weights(parts.checkpoint_dir / done.checkpoint)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    history = json.loads((parts.checkpoint_dir / "state.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2]
