"""Everything needed at recognition time: codec, preprocessing, decoding, segmentation, Recognizer.

This package never imports Qt or TensorFlow (``network`` imports Keras lazily for training/export).
"""
