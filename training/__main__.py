"""``python -m training <command>``: train, export, evaluate, fonts, decoder, language-model and data sub-commands."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it."""
    parser = argparse.ArgumentParser(prog="python -m training", description="Train and export htr-desktop models.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fonts", help="fetch the @fontsource handwriting fonts (and their other styles) with npm")
    tr = sub.add_parser("train", help="train a CRNN")
    tr.add_argument("--config", help="TOML config file (see training/configs/)")
    tr.add_argument("--epochs", type=int)
    tr.add_argument("--batch-size", type=int, dest="batch_size")
    tr.add_argument("--learning-rate", type=float, dest="learning_rate")
    tr.add_argument("--steps-per-epoch", type=int, dest="steps_per_epoch")
    tr.add_argument("--init-from", dest="init_from", help=".keras weights to fine-tune from")
    tr.add_argument("--strategy", choices=["default", "mirrored", "multiworker"])
    tr.add_argument("--run-dir", dest="run_dir")
    tr.add_argument("--name")
    tr.add_argument("--verbose", type=int)
    tr.add_argument("--checkpoint-every", type=int, dest="checkpoint_every")
    tr.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                    help="continue from <run_dir>/<name>/state.json if present (default)")
    tr.add_argument("--stop-after", type=int, dest="stop_after", help="stop after this many steps")
    sub.add_parser("evaluate", help="score a model bundle on labelled images", add_help=False)
    sub.add_parser("export", help="export a .keras checkpoint to a model bundle", add_help=False)
    sub.add_parser("average", help="average the weights of several checkpoints of one network", add_help=False)
    sub.add_parser("validate", help="greedy validation figures of checkpoints, as a run reports its epochs",
                   add_help=False)
    sub.add_parser("page-eval", help="score page segmentation + recognition on composed pages", add_help=False)
    sub.add_parser("tune-decoder", help="tune and compare the decoders on the validation sets", add_help=False)
    sub.add_parser("compare", help="two bundles on the validation sets, with bootstrap intervals", add_help=False)
    sub.add_parser("candidate", help="export a checkpoint as a candidate and judge it by the ship rule",
                   add_help=False)
    sub.add_parser("tune-dense", help="choose when densely written lines are read again wider", add_help=False)
    sub.add_parser("build-lm", help="build the character language model from English text on npm", add_help=False)
    sub.add_parser("plot", help="plot a run's loss and validation CER to a PNG", add_help=False)
    sub.add_parser("render-eval", help="render an evaluation set from evaluation-only fonts", add_help=False)
    sub.add_parser("import-xml-lines", help="cut handwritten lines out of ALTO/PAGE-XML ground truth",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "fonts":
        from training.fonts import main as fonts_main

        fonts_main()
        return 0
    if args.command == "train" and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "train":
        from training.config import TrainConfig
        from training.train import train

        skip = ("command", "config", "resume", "stop_after")
        overrides = {k: v for k, v in vars(args).items() if k not in skip}
        cfg = TrainConfig.load(args.config, **overrides)
        print(train(cfg, resume=args.resume, stop_after=args.stop_after))
        return 0
    if args.command == "evaluate":
        from training.evaluate import main as eval_main

        return eval_main(rest)
    if args.command == "page-eval":
        from training.page_eval import main as page_main

        return page_main(rest)
    if args.command == "compare":
        from training.compare import main as compare_main

        return compare_main(rest)
    if args.command == "validate":
        from training.validate_checkpoints import main as validate_main

        return validate_main(rest)
    if args.command == "candidate":
        from training.candidate import main as candidate_main

        return candidate_main(rest)
    if args.command == "tune-decoder":
        from training.tune_decoder import main as tune_main

        return tune_main(rest)
    if args.command == "tune-dense":
        from training.tune_dense import main as dense_main

        return dense_main(rest)
    if args.command == "build-lm":
        from training.charlm import main as lm_main

        return lm_main(rest)
    if args.command == "plot":
        from training.plot import main as plot_main

        return plot_main(rest)
    if args.command == "render-eval":
        from training.render_eval import main as render_main

        return render_main(rest)
    if args.command == "import-xml-lines":
        from training.import_xml_lines import main as import_main

        return import_main(rest)
    if args.command == "average":
        from training.average import main as average_main

        return average_main(rest)
    if args.command == "export":
        from training.export import main as export_main

        return export_main(rest)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
