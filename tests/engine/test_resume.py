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
    for x, y in zip(_weights(parts.checkpoint_dir / "epoch-2.keras"), _weights(parts.checkpoint_dir / "last.keras")):
        np.testing.assert_array_equal(x, y)  # every epoch's weights kept beside last.keras
    assert (parts.checkpoint_dir / "epoch-1.keras").exists() and not (parts.checkpoint_dir / "epoch-3.keras").exists()


def test_the_weight_average_is_validated_kept_and_resumed(tmp_path):
    """With ema_momentum, last.keras holds the optimizer's average, which survives a resume."""
    import keras
    import tensorflow as tf

    from training.fonts import fetch_fonts
    from training.train import RunState, ctc_loss, train

    if not fetch_fonts(("caveat", "kalam")):
        pytest.skip("npm could not fetch @fontsource fonts")
    tf.config.experimental.enable_op_determinism()
    whole = _config(tmp_path, "whole")
    whole.ema_momentum = 0.5
    train(whole)
    parts = _config(tmp_path, "parts")
    parts.ema_momentum = 0.5
    train(parts, stop_after=3)
    train(parts)
    state = RunState.read(whole.checkpoint_dir / "state.json")
    ckpt = keras.models.load_model(whole.checkpoint_dir / state.checkpoint, custom_objects={"ctc_loss": ctc_loss})
    averages = [np.asarray(v) for v in ckpt.optimizer.variables if "average" in v.path]
    raw = [np.asarray(v) for v in ckpt.trainable_variables]
    assert len(averages) == len(raw) > 0
    last = keras.models.load_model(whole.checkpoint_dir / "last.keras", compile=False)
    kept = [np.asarray(v) for v in last.trainable_variables]
    for avg, k in zip(averages, kept):
        np.testing.assert_allclose(k, avg, rtol=1e-6, atol=1e-7)
    assert any(not np.allclose(k, r) for k, r in zip(kept, raw)), "last.keras holds the raw weights"
    for x, y in zip(kept, _weights_trainable(parts.checkpoint_dir / "last.keras")):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def _weights_trainable(path):
    import keras

    return [np.asarray(v) for v in keras.models.load_model(path, compile=False).trainable_variables]
