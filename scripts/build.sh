#!/usr/bin/env bash
# Build the packaged executable from this checkout and smoke-test it.
#   scripts/build.sh              one-folder bundle: dist/htr-desktop/htr-desktop
#   scripts/build.sh --onefile    one self-extracting file: dist/htr-desktop
# Steps: a fresh venv outside the checkout with the runtime dependencies only (`pip install .`, no [train], so no
# TensorFlow) plus PyInstaller 6; `pyinstaller build.spec`; then scripts/smoke_bundle.py runs the executable from a
# scratch folder (version, recognizing the shipped sample, GUI start offscreen and under Xvfb); then (one-folder
# builds) the download artifact dist/htr-desktop-<version>-linux-<arch>.tar.zst (the folder with its desktop entry,
# icon and install-desktop-entry.sh), unpacked into an empty folder and smoke-tested there too.
# OpenCV: the bundle gets an opencv-python-headless of the same version with only the modules the app uses, built
# once from its sdist and cached (scripts/opencv_minimal.sh; needs g++ and nasm); HTR_OPENCV=pypi keeps the registry's.
# Env: PYTHON (default python3.11), HTR_DIST (default <checkout>/dist), HTR_NICE (default 15), HTR_SMOKE_ARGS,
# HTR_ZSTD_LEVEL (default 19), HTR_OPENCV (minimal | pypi), HTR_OPENCV_CACHE. Needs `zstd` for the artifact (Debian:
# apt-get install zstd).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3.11}"
DIST="${HTR_DIST:-$ROOT/dist}"
NICE=(nice -n "${HTR_NICE:-15}")
WORK="$(mktemp -d -t htr-build-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
ONEFILE=0
for arg in "$@"; do [ "$arg" = "--onefile" ] && ONEFILE=1; done

echo "== clean build environment in $WORK/venv"
"${NICE[@]}" "$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"${NICE[@]}" "$VPY" -m pip install -q --disable-pip-version-check "$ROOT" "pyinstaller>=6.10,<7"
if [ "${HTR_OPENCV:-minimal}" = minimal ]; then  # HTR_OPENCV=pypi keeps the registry's full wheel
  CV_VERSION="$("$VPY" -c 'from importlib.metadata import version; print(version("opencv-python-headless"))')"
  CV_WHEEL="$("${NICE[@]}" "$ROOT/scripts/opencv_minimal.sh" "$CV_VERSION" "$VPY")"
  "$VPY" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$CV_WHEEL"
  echo "== OpenCV for the bundle: $(basename "$CV_WHEEL")"
fi
"$VPY" - <<'PY'
import importlib.util, sys
leaked = [m for m in ("tensorflow", "keras", "tf_keras") if importlib.util.find_spec(m)]
if leaked:
    sys.exit(f"build environment is not runtime-only: {leaked} installed")
PY

echo "== pyinstaller build.spec -> $DIST"
cd "$WORK"
"${NICE[@]}" "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK/build" "$ROOT/build.spec" -- "$@"
if [ "$ONEFILE" = 1 ]; then EXE="$DIST/htr-desktop"; else EXE="$DIST/htr-desktop/htr-desktop"; fi
echo "== built $EXE ($(du -sh "$DIST/htr-desktop" | cut -f1))"

echo "== smoke test from a folder outside the checkout"
# shellcheck disable=SC2086
"${NICE[@]}" "$VPY" "$ROOT/scripts/smoke_bundle.py" "$EXE" ${HTR_SMOKE_ARGS:-}

[ "$ONEFILE" = 1 ] && exit 0
echo "== download artifact"
command -v zstd >/dev/null || { echo "zstd is needed for the download artifact (apt-get install zstd)"; exit 1; }
FOLDER="$DIST/htr-desktop"
cp "$ROOT/packaging/htr-desktop.desktop" "$ROOT/packaging/install-desktop-entry.sh" "$FOLDER/"
cp "$ROOT/resources/icons/htr-desktop.svg" "$FOLDER/"
VERSION="$("$VPY" -c 'import htr_desktop; print(htr_desktop.__version__)')"
ARTIFACT="$DIST/htr-desktop-$VERSION-linux-$(uname -m).tar.zst"
tar -C "$DIST" -cf - htr-desktop | "${NICE[@]}" zstd -"${HTR_ZSTD_LEVEL:-19}" --long=27 -T0 -q -f -o "$ARTIFACT"
echo "== built $ARTIFACT ($(du -h "$ARTIFACT" | cut -f1); folder $(du -sh "$FOLDER" | cut -f1))"
echo "== smoke test of the artifact, unpacked into an empty folder"
UNPACKED="$WORK/unpacked"
mkdir "$UNPACKED"
zstd -dc "$ARTIFACT" | tar -C "$UNPACKED" -xf -
# shellcheck disable=SC2086
"${NICE[@]}" "$VPY" "$ROOT/scripts/smoke_bundle.py" "$UNPACKED/htr-desktop/htr-desktop" ${HTR_SMOKE_ARGS:-}
