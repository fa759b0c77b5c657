"""Knowledge distillation: a network learns the frame posteriors of a larger one besides the CTC labels.

The teacher reads the same augmented batch as the student; the student is pulled towards the teacher's softmax
at every frame (KL divergence, summed over the frames of a crop like the CTC loss, so ``distill_weight`` compares
the two). Both networks must downsample the width alike, so that their frames are the same columns of the crop.
"""

from __future__ import annotations

from typing import Any


def frame_kl(teacher_logits: Any, student_logits: Any, temperature: float = 1.0) -> Any:
    """Per crop: the sum over frames of KL(teacher || student) of the softmaxes at ``temperature``, times T²."""
    import tensorflow as tf

    t = tf.cast(teacher_logits, tf.float32) / temperature
    s = tf.cast(student_logits, tf.float32) / temperature
    log_p = tf.nn.log_softmax(t, axis=-1)
    kl = tf.reduce_sum(tf.exp(log_p) * (log_p - tf.nn.log_softmax(s, axis=-1)), axis=-1)
    return tf.reduce_sum(kl, axis=-1) * temperature**2


def load_teacher(path: Any, student: Any, height: int) -> Any:
    """The teacher network from ``path``, frozen; it must give the student's number of frames and classes."""
    import keras
    import numpy as np

    teacher = keras.models.load_model(path, compile=False)
    teacher.trainable = False
    probe = np.zeros((1, height, 256, 1), dtype="float32")
    got, want = teacher(probe, training=False).shape, student(probe, training=False).shape
    if tuple(got) != tuple(want):
        raise ValueError(f"teacher {path} gives output {tuple(got)} where the student gives {tuple(want)}: "
                         "it must read the same frames and classes")
    return teacher
