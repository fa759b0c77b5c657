"""Fetch OFL handwriting fonts from the npm ``@fontsource/*`` packages (never Debian's: those are for evaluation)."""

from __future__ import annotations

import logging
import subprocess
import tarfile
from pathlib import Path

from platformdirs import user_cache_dir

log = logging.getLogger(__name__)

#: Handwriting-style families on npm (@fontsource). All are SIL OFL or Apache licensed.
FONTSOURCE_FAMILIES = (
    "caveat", "indie-flower", "kalam", "patrick-hand", "homemade-apple", "reenie-beanie",
    "nanum-pen-script", "gloria-hallelujah", "la-belle-aurore", "shadows-into-light", "rock-salt",
    "architects-daughter", "cedarville-cursive", "covered-by-your-grace", "gochi-hand", "handlee",
    "the-girl-next-door", "dancing-script", "just-another-hand", "kristi", "nothing-you-could-do",
    "over-the-rainbow", "schoolbell", "sue-ellen-francisco", "waiting-for-the-sunrise", "zeyada",
    "marck-script", "yellowtail", "mrs-saint-delafield", "dawning-of-a-new-day", "delius", "itim",
    "short-stack", "coming-soon", "annie-use-your-telescope", "give-you-glory", "loved-by-the-king",
    "swanky-and-moo-moo", "walter-turncoat", "permanent-marker", "caveat-brush", "pangolin",
    "neucha", "sedgwick-ave", "shadows-into-light-two", "just-me-again-down-here", "bad-script",
)


def font_dir() -> Path:
    """Where fetched fonts are kept (outside the work tree)."""
    return Path(user_cache_dir("htr-desktop")) / "fonts"


def fetch_fonts(families: tuple[str, ...] = FONTSOURCE_FAMILIES, dest: Path | None = None) -> list[Path]:
    """``npm pack`` each family (if not cached) and extract its latin 400 ``.woff2``; return the files."""
    dest = dest or font_dir()
    dest.mkdir(parents=True, exist_ok=True)
    fonts = []
    for family in families:
        target = dest / f"{family}.woff2"
        if not target.exists():
            tgz = next(dest.glob(f"fontsource-{family}-*.tgz"), None)
            if tgz is None:
                try:
                    subprocess.run(["npm", "pack", f"@fontsource/{family}"], cwd=dest, check=True,
                                   capture_output=True, timeout=300)
                except (OSError, subprocess.SubprocessError) as exc:
                    log.warning("could not fetch @fontsource/%s: %s", family, exc)
                    continue
                tgz = next(dest.glob(f"fontsource-{family}-*.tgz"), None)
            if tgz is None:
                continue
            with tarfile.open(tgz) as tar:
                member = next((m for m in tar.getmembers()
                               if m.name.endswith(f"{family}-latin-400-normal.woff2")), None)
                if member is None:
                    continue
                extracted = tar.extractfile(member)
                if extracted is None:
                    continue
                target.write_bytes(extracted.read())
        fonts.append(target)
    return fonts


def main() -> None:
    """``python -m training.fonts``: fetch the fonts and print where they are."""
    logging.basicConfig(level=logging.INFO)
    fonts = fetch_fonts()
    print(f"{len(fonts)} fonts in {font_dir()}")


if __name__ == "__main__":
    main()
