"""Training side of htr-desktop: data, augmentation, training, evaluation and export (TensorFlow/Keras)."""
