"""Fetch OFL handwriting fonts from the npm ``@fontsource/*`` packages (never Debian's: those are for evaluation)."""

from __future__ import annotations

import logging
import re
import subprocess
import tarfile
from pathlib import Path

from platformdirs import user_cache_dir

log = logging.getLogger(__name__)

#: Handwriting-style families on npm (@fontsource). All are SIL OFL or Apache licensed, and none of them is in a
#: Debian package (checked with ``apt-file search``; see DEBIAN_HANDWRITING): those are for evaluation only.
FONTSOURCE_FAMILIES = (
    # casual print and marker hands
    "caveat", "indie-flower", "kalam", "patrick-hand", "homemade-apple", "reenie-beanie",
    "gloria-hallelujah", "la-belle-aurore", "shadows-into-light", "rock-salt",
    "architects-daughter", "cedarville-cursive", "covered-by-your-grace", "gochi-hand", "handlee",
    "the-girl-next-door", "just-another-hand", "nothing-you-could-do",
    "over-the-rainbow", "schoolbell", "sue-ellen-francisco", "waiting-for-the-sunrise", "zeyada",
    "marck-script", "yellowtail", "mrs-saint-delafield", "dawning-of-a-new-day", "delius", "itim",
    "short-stack", "coming-soon", "annie-use-your-telescope", "give-you-glory", "loved-by-the-king",
    "swanky-and-moo-moo", "walter-turncoat", "permanent-marker", "caveat-brush", "pangolin",
    "neucha", "sedgwick-ave", "shadows-into-light-two", "just-me-again-down-here", "bad-script",
    "sriracha", "mali", "playpen-sans", "shantell-sans", "nerko-one", "gamja-flower", "grape-nuts",
    "delicious-handrawn", "fuzzy-bubbles", "mansalva", "rancho", "sunshiney", "unkempt", "gaegu",
    "crafty-girls", "calligraffitti", "kite-one", "julee", "mynerve", "square-peg", "oooh-baby",
    "beth-ellen", "dekko", "patrick-hand-sc", "vibur",
    # school hands (cursive and print models of several countries)
    "playwrite-us-trad", "playwrite-us-modern", "playwrite-de-grund", "playwrite-fr-trad", "playwrite-it-trad",
    "playwrite-dk-loopet", "playwrite-nz", "playwrite-za", "playwrite-cz", "playwrite-hu", "playwrite-ar",
    "playwrite-ng-modern", "playwrite-ie", "playwrite-es",
    "edu-sa-beginner", "edu-nsw-act-foundation", "edu-vic-wa-nt-beginner", "edu-qld-beginner",
    "edu-tas-beginner", "edu-au-vic-wa-nt-hand",
    # flowing scripts
    "sacramento", "satisfy", "courgette", "damion", "yesteryear", "rochester", "merienda", "cookie", "mr-dafoe",
    # added in session 6: more print hands (some drawing lower case as small capitals), school hands, scripts
    "amatic-sc", "comic-relief", "cute-font", "darumadrop-one", "delius-swash-caps", "delius-unicase", "dongle",
    "east-sea-dokdo", "finger-paint", "hachi-maru-pop", "hi-melody", "kavivanar", "poor-story", "single-day",
    "edu-au-vic-wa-nt-pre", "edu-nsw-act-cursive", "edu-nsw-act-hand-pre", "edu-qld-hand", "edu-sa-hand",
    "edu-vic-wa-nt-hand", "playwrite-au-qld", "playwrite-ca", "playwrite-de-sas", "playwrite-dk-uloopet",
    "playwrite-fr-moderne", "playwrite-it-moderna", "playwrite-is", "playwrite-pl", "playwrite-vn",
    "bilbo", "caramel", "charm", "grechen-fuemen", "licorice",
    # added in session 9 (Google Fonts' "handwriting" category, latin, not Debian's, looked at one by one): more
    # school models (italic ones among them), casual print hands, slanted and brush hands
    "playwrite-at", "playwrite-br", "playwrite-cu", "playwrite-hr-lijeva", "playwrite-mx", "playwrite-no",
    "playwrite-pt", "playwrite-sk", "playwrite-tz", "cause", "sedgwick-ave-display", "slackside-one", "fuggles",
    "ruthie", "jim-nightshade", "grey-qo", "redressed", "estonia", "explora", "lugrasimo", "comforter",
    "kolker-brush", "gwendolyn", "sofia", "norican", "pacifico", "felipa", "fondamento", "eagle-lake", "borel",
    "puppies-play", "twinkle-star", "butterfly-kids", "molle", "qwitcher-grypen", "send-flowers", "style-script",
    "tangerine", "whisper", "windsong",
    # added in session 22: the rest of Google Fonts' "handwriting" category (latin) that @fontsource has on npm and
    # Debian does not package (every file name checked with `apt-file search`), looked at one by one. Left out:
    # outlined, hollow or swash-only display faces, near-illegible flourishes, the "-guides" variants (ruled lines
    # drawn into every letter), mostly-CJK faces. Formal and brush scripts, and more school hands of Playwrite:
    "aguafina-script", "alex-brush", "allison", "amita", "arizonia", "babylonica", "bilbo-swash-caps",
    "birthstone-bounce", "birthstone", "bonheur-royale", "carattere", "charmonman", "clicker-script",
    "comforter-brush", "condiment", "corinthia", "dr-sugiyama", "engagement", "ephesis", "euphoria-script", "festive",
    "fleur-de-leah", "grand-hotel", "herr-von-muellerhoff", "hurricane", "imperial-script", "ingrid-darling",
    "inspiration", "island-moments", "italianno", "kings", "league-script", "love-light",
    "lovers-quarrel", "luxurious-script", "mea-culpa", "meddon", "meie-script", "meow-script", "montecarlo",
    "moon-dance", "mr-bedfort", "mr-de-haviland", "my-soul", "niconne", "parisienne", "passions-conflict",
    "petit-formal-script", "pinyon-script", "playwrite-au-vic", "playwrite-be-wal", "playwrite-cl", "playwrite-co",
    "playwrite-es-deco", "playwrite-hr", "playwrite-id", "playwrite-in", "playwrite-nl", "playwrite-pe",
    "playwrite-ro", "princess-sofia", "quintessential", "romanesco", "rouge-script", "ruge-boogie", "sassy-frass",
    "smooch", "splash", "the-nautigal", "updock", "vujahday-script", "water-brush", "waterfall",
)

#: Handwriting families that Debian packages (fonts-dancingscript, fonts-kristi, fonts-nanum-extra's NanumPen,
#: fonts-kaushanscript, fonts-klee, fonts-comic-neue, fonts-cegui's GreatVibes, fonts-smc-chilanka,
#: fonts-woowa-bm's Yeon Sung, fonts-yusei-magic, ...): never trained on. Names match
#: as prefixes of a file name, any case or spacing ("nanum-pen" also covers nanum-pen-script).
DEBIAN_HANDWRITING = (
    "dancing-script", "kristi", "kaushan-script", "klee-one", "comic-neue", "great-vibes",
    "humor-sans", "dkg", "breip", "bwht", "femkeklaver", "ecolier-court", "joscelyn", "nanum-pen",
    "nanum-brush", "chilanka", "yeon-sung", "bm-yeonsung", "yusei-magic",
    # session 22: more Debian fonts drawn like handwriting (fonts-rufscript, fonts-leckerli-one, fonts-lobster)
    # and fonts-teluguvijayam (LakkiReddy, in Google Fonts' handwriting category)
    "rufscript", "leckerli-one", "lobster", "lakki-reddy",
)


#: @fontsource handwriting families that no model has trained on, held out as the fonts validation set (lines in
#: unseen hands, chosen by the checkpoint selection like the real sets). Print hands and scripts; all OFL or Apache.
VALIDATION_FAMILIES = (
    "allura", "kranky", "love-ya-like-a-sister", "montez", "ms-madi", "qwigley", "sofadi-one", "yomogi",
    "zen-kurenaido",
)


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def is_reserved(path: Path) -> bool:
    """Whether a font file is one of the Debian handwriting fonts (by its family name, any case or spacing)."""
    stem = _squash(path.stem)
    return any(stem.startswith(_squash(family)) for family in DEBIAN_HANDWRITING)


def is_validation(path: Path) -> bool:
    """Whether a font file is one of the held-out validation families (in any weight or style)."""
    stem = _squash(re.sub(r"-\d{3}-(normal|italic)$", "", path.stem))
    return any(stem == _squash(family) for family in VALIDATION_FAMILIES)


def validation_font_dir() -> Path:
    """The held-out validation fonts live apart from the training fonts."""
    return font_dir() / "validation"


def font_dir() -> Path:
    """Where fetched fonts are kept (outside the work tree)."""
    return Path(user_cache_dir("htr-desktop")) / "fonts"


def packed(folder: Path, family: str) -> Path | None:
    """The ``npm pack`` archive of ``family`` in ``folder`` (not that of a longer name: caveat, not caveat-brush)."""
    found = re.compile(rf"fontsource-{re.escape(family)}-\d[^/]*\.tgz")
    return next((p for p in sorted(folder.glob(f"fontsource-{family}-*.tgz")) if found.fullmatch(p.name)), None)


def fetch_fonts(families: tuple[str, ...] = FONTSOURCE_FAMILIES, dest: Path | None = None) -> list[Path]:
    """``npm pack`` each family (if not cached) and extract its latin 400 ``.woff2``; return the files."""
    dest = dest or font_dir()
    dest.mkdir(parents=True, exist_ok=True)
    fonts = []
    for family in families:
        target = dest / f"{family}.woff2"
        if not target.exists():
            tgz = packed(dest, family)
            if tgz is None:
                try:
                    subprocess.run(["npm", "pack", f"@fontsource/{family}"], cwd=dest, check=True,
                                   capture_output=True, timeout=300)
                except (OSError, subprocess.SubprocessError) as exc:
                    log.warning("could not fetch @fontsource/%s: %s", family, exc)
                    continue
                tgz = packed(dest, family)
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


def style_dir() -> Path:
    """Where the other weights and italics of the training families are kept (a folder of their own)."""
    return font_dir() / "styles"


def pick_styles(available: set[tuple[int, str]]) -> list[tuple[int, str]]:
    """The styles worth training on besides regular 400: the boldest weight (600 and up), every italic at 400 or
    the boldest, and, for a family whose heaviest weight is 400 (hairline school hands), its lightest."""
    normal = sorted(w for w, s in available if s == "normal")
    italic = sorted(w for w, s in available if s == "italic")
    picked: list[tuple[int, str]] = []
    if normal and normal[-1] >= 600:
        picked.append((normal[-1], "normal"))
    elif normal and normal[-1] <= 400 and normal[0] < 400:
        picked.append((normal[0], "normal"))
    picked += sorted({(w, "italic") for w in italic if w == 400 or w == italic[-1]})
    return picked


def fetch_font_styles(families: tuple[str, ...] = FONTSOURCE_FAMILIES, dest: Path | None = None) -> list[Path]:
    """Extract :func:`pick_styles` of each family from its already packed ``@fontsource`` archive into
    :func:`style_dir` as ``<family>-<weight>-<style>.woff2``; return the files (families without other styles
    give none)."""
    dest = dest or style_dir()
    dest.mkdir(parents=True, exist_ok=True)
    files = []
    for family in families:
        tgz = packed(font_dir(), family)
        if tgz is None:
            continue
        style_file = re.compile(rf"/{re.escape(family)}-latin-(\d{{3}})-(normal|italic)\.woff2$")
        with tarfile.open(tgz) as tar:
            members = {(int(found[1]), found[2]): m for m in tar.getmembers()
                       if (found := style_file.search(m.name))}
            for weight, style in pick_styles(set(members)):
                target = dest / f"{family}-{weight}-{style}.woff2"
                if not target.exists():
                    extracted = tar.extractfile(members[(weight, style)])
                    if extracted is None:
                        continue
                    target.write_bytes(extracted.read())
                files.append(target)
    return files


def main() -> None:
    """``python -m training.fonts``: fetch the fonts (and their other styles) and print where they are."""
    logging.basicConfig(level=logging.INFO)
    fonts = fetch_fonts()
    styles = fetch_font_styles()
    print(f"{len(fonts)} fonts in {font_dir()}, {len(styles)} more weights and italics in {style_dir()}")


if __name__ == "__main__":
    main()
