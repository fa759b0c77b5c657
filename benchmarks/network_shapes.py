"""What a network shape costs at recognition time: LiteRT milliseconds per line for CRNNs of several widths.

Each shape is built with fresh weights and exported exactly as a bundle is (``training.export.to_tflite``: the
``tf_keras`` twin, fused LSTM ops, int8 weights), then run the way ``Recognizer`` runs it (one thread, state reset
before each run) on the held-back IAM lines' prepared widths, each padded to its width bucket. The time of dense
layers does not depend on the weights' values, so fresh weights time as trained ones would. Pin it to one core
(``taskset -c 0``) for figures comparable with the speed bar. Prints a Markdown table.

Usage: taskset -c 0 python -m benchmarks.network_shapes [--lines 100] [--repeats 5] [SHAPE ...]
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from benchmarks.data import held_back_lines
from model.charset import Charset
from model.network import NetworkSpec
from model.preprocess import InputSpec, prepare_line
from model.recognizer import bucket_width

WIDE_CONV = (48, 96, 144, 144, 192, 192)
SHAPES = {
    "bundled (conv 32-128, BiLSTM 2x128)": NetworkSpec(),
    "conv 48-192": NetworkSpec(conv_filters=WIDE_CONV),
    "BiLSTM 2x192": NetworkSpec(lstm_units=192),
    "conv 48-192, BiLSTM 2x192": NetworkSpec(conv_filters=WIDE_CONV, lstm_units=192),
    "BiLSTM 3x128": NetworkSpec(lstm_layers=3),
    "BiLSTM 2x256": NetworkSpec(lstm_units=256),
}


def line_widths(n: int, spec: InputSpec) -> list[int]:
    """The bucket widths ``Recognizer`` pads the first ``n`` held-back IAM lines to."""
    return [bucket_width(prepare_line(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), spec).shape[1])
            for path, _ in held_back_lines(n)]


def per_line_ms(tflite: bytes, widths: list[int], height: int, repeats: int) -> float:
    """Median over the lines of each line's best-of-``repeats`` wall milliseconds for one run of the network."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=tflite, num_threads=1)
    index = interp.get_input_details()[0]["index"]
    rng = np.random.default_rng(0)
    times = []
    for width in widths:
        interp.resize_tensor_input(index, (1, height, width, 1))
        interp.allocate_tensors()
        x = rng.random((1, height, width, 1), dtype=np.float32)
        best = float("inf")
        for _ in range(repeats):
            interp.reset_all_variables()
            interp.set_tensor(index, x)
            t0 = time.perf_counter()
            interp.invoke()
            best = min(best, time.perf_counter() - t0)
        times.append(best * 1000)
    return statistics.median(times)


def main() -> None:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shapes", nargs="*", metavar="SHAPE", help="some of: " + "; ".join(SHAPES))
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    unknown = [s for s in args.shapes if s not in SHAPES]
    if unknown:
        parser.error(f"unknown shape {unknown[0]!r}")

    from model.network import build_crnn
    from training.export import to_tflite

    spec = InputSpec(height=32)
    widths = line_widths(args.lines, spec)
    classes = Charset().num_classes
    print(f"{len(widths)} held-back IAM lines, bucket widths {min(widths)}-{max(widths)} px "
          f"(median {statistics.median(widths):.0f}); one thread, best of {args.repeats} runs per line\n")
    print("| network | parameters | .tflite KB | ms per line (median) | vs bundled |")
    print("|---|---|---|---|---|")
    base = None
    for name in args.shapes or SHAPES:
        model = build_crnn(spec.height, classes, SHAPES[name])
        tflite = to_tflite(model, spec.height, classes, batch=1)
        ms = per_line_ms(tflite, widths, spec.height, args.repeats)
        base = base or ms
        print(f"| {name} | {model.count_params():,} | {len(tflite) // 1024:,} | {ms:.2f} | {ms / base:.2f}x |",
              flush=True)


if __name__ == "__main__":
    main()
