"""Where a line's CPU time goes, function by function, in whichever tree is first on ``PYTHONPATH``.

Usage: PYTHONPATH=TREE python benchmarks/line_stages.py [--rounds 3] [--lines 100] [--json OUT]

Reads the held-back IAM lines one at a time (``load_image`` + ``Recognizer.recognize``, bundled model, one thread,
warmed up on 10 lines) ``--rounds`` times, with a CPU-time (user + system) timer wrapped around each function named in
``STAGES`` that the tree has (an older tree lacks some; a function called inside another counts in both), and prints
the median ms a line of each. Run it pinned (``taskset -c 1``) in two trees by turns for a before / after table (the
timers add a little to every stage). ``--json`` writes every round's seconds for medians over several runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: (module, class or None, function, label): what is timed.
STAGES = (
    ("model.imageio", None, "read_bytes", "read the file"),
    ("cv2", None, "imdecode", "decode the image"),
    ("model.recognizer", None, "prepare_line_parts", "preprocess"),
    ("model.preprocess", None, "normalize_illumination", "- illumination"),
    ("model.preprocess", None, "remove_rules", "- rules' removal"),
    ("model.preprocess", None, "without_rules", "- rules' removal (mask given)"),
    ("model.preprocess", None, "_crop_box", "- ink box"),
    ("model.preprocess", None, "resize_to_height", "resize to the network's height (every resize)"),
    ("model.recognizer", "Recognizer", "density", "dense-line guess"),
    ("model.recognizer", None, "piece_columns", "long lines"),
    ("model.recognizer", "Recognizer", "logits", "network"),
    ("model.recognizer", "Recognizer", "decode", "CTC decode"),
    ("model.beam", "BeamDecoder", "_hypotheses", "- n-best hypotheses"),
    ("model.beam", "BeamDecoder", "reading", "- word evidence and confidences"),
    ("model.recognizer", None, "aligned_word_boxes", "word boxes"),
    ("model.recognizer", "Recognizer", "recognize", "recognize"),
)


def timed(fn: Callable[..., Any], label: str, seconds: dict[str, float]) -> Callable[..., Any]:
    """``fn`` adding its CPU seconds to ``seconds[label]``."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[label] += time.process_time() - start

    return wrapper


def wrap_stages(seconds: dict[str, float]) -> list[str]:
    """Put the timers in place; the labels of the stages this tree has."""
    import importlib

    found = []
    for module, cls, name, label in STAGES:
        owner: Any = importlib.import_module(module)
        owner = getattr(owner, cls) if cls else owner
        if hasattr(owner, name):
            setattr(owner, name, timed(getattr(owner, name), label, seconds))
            found.append(label)
    return found


def flashlight_timer(rec: Any, seconds: dict[str, float]) -> None:
    """Time the beam search itself: the flashlight decoder objects behind ``rec``'s beam decoder."""
    beam = rec._beam_decoder()

    class Timed:
        def __init__(self, decoder: Any) -> None:
            self.decode = timed(decoder.decode, "- flashlight's beam search", seconds)

    same = beam._caps_decoder is beam._decoder
    beam._decoder = Timed(beam._decoder)
    beam._caps_decoder = beam._decoder if same else Timed(beam._caps_decoder)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--lines", type=int, default=100)
    p.add_argument("--json", type=Path, help="write every round's seconds a stage here")
    args = p.parse_args()
    from benchmarks.data import held_back_lines
    from model import imageio
    from model.recognizer import Recognizer

    paths = [path for path, _ in held_back_lines(args.lines)]
    seconds: dict[str, float] = defaultdict(float)
    labels = wrap_stages(seconds)
    rec = Recognizer.load(threads=1)
    if rec.config.uses_beam:
        flashlight_timer(rec, seconds)
        labels.append("- flashlight's beam search")
    for path in paths[:10]:
        rec.recognize([imageio.load_image(path)])
    rounds = []
    for _ in range(args.rounds):
        seconds.clear()
        start = time.process_time()
        for path in paths:
            rec.recognize([imageio.load_image(path)])
        rounds.append({**seconds, "read + recognize, all": time.process_time() - start})
    if args.json:
        args.json.write_text(json.dumps(rounds))
    for label in [x for x in [*labels, "read + recognize, all"] if any(x in r for r in rounds)]:  # those called
        print(f"{label}: {1000 * statistics.median(r.get(label, 0.0) for r in rounds) / len(paths):.3f} ms a line")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
