#!/usr/bin/env bash
# Print the path of an opencv-python-headless wheel with only what the app uses, building it once if needed.
#   scripts/opencv_minimal.sh VERSION PYTHON
# The registry's wheel carries every OpenCV module plus FFmpeg, OpenBLAS and codec libraries (~150 MB in the
# bundle). This builds the same VERSION from its PyPI sdist with core, imgproc, imgcodecs (PNG, JPEG, TIFF, WebP,
# BMP, PxM) and videoio (V4L cameras) only: no FFmpeg, no LAPACK/BLAS, no IPP (downloaded at configure time,
# so unavailable offline). The wheel is cached under HTR_OPENCV_CACHE (default ~/.cache/htr-desktop/opencv-wheels),
# keyed by version, Python and these flags: only the first build compiles. Needs a C++ compiler; nasm for
# libjpeg-turbo's SIMD code (Debian: apt-get install g++ nasm). Build output: <cache>/<key>/build.log.
set -euo pipefail
VERSION="$1"
PY="$2"
CACHE="${HTR_OPENCV_CACHE:-$HOME/.cache/htr-desktop/opencv-wheels}"
FLAGS="-DPYTHON3_LIMITED_API=ON -DBUILD_LIST=core,imgproc,imgcodecs,videoio,python3 -DWITH_FFMPEG=OFF
 -DWITH_GSTREAMER=OFF -DWITH_LAPACK=OFF -DWITH_IPP=OFF -DWITH_OPENCL=OFF -DWITH_ITT=OFF -DCV_TRACE=OFF -DWITH_EIGEN=OFF
 -DWITH_PROTOBUF=OFF -DBUILD_PROTOBUF=OFF -DWITH_ADE=OFF -DWITH_OPENEXR=OFF -DBUILD_OPENEXR=OFF -DWITH_OPENJPEG=OFF
 -DWITH_JASPER=OFF -DWITH_AVIF=OFF -DWITH_V4L=ON -DWITH_1394=OFF -DWITH_VA=OFF -DWITH_VA_INTEL=OFF -DWITH_TBB=OFF
 -DWITH_OPENMP=OFF -DWITH_OPENVX=OFF -DWITH_CAROTENE=OFF -DWITH_KLEIDICV=OFF -DWITH_FASTCV=OFF -DWITH_QUIRC=OFF
 -DWITH_IMGCODEC_HDR=ON -DBUILD_ZLIB=ON -DBUILD_PNG=ON -DBUILD_JPEG=ON -DBUILD_TIFF=ON -DBUILD_WEBP=ON -DWITH_SPNG=OFF
 -DWITH_PNG=ON -DENABLE_PRECOMPILED_HEADERS=OFF -DBUILD_JAVA=OFF -DBUILD_opencv_java=OFF"
FLAGS="$(echo $FLAGS)"  # one line
KEY="$VERSION-$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')-$(echo "$FLAGS" | sha256sum | cut -c1-12)"
DIR="$CACHE/$KEY"
WHEEL="$(ls "$DIR"/opencv_python_headless-"$VERSION"-*.whl 2>/dev/null | head -1 || true)"
if [ -z "$WHEEL" ]; then
  mkdir -p "$DIR"
  echo "== building opencv-python-headless $VERSION (core, imgproc, imgcodecs, videoio) once: log $DIR/build.log" >&2
  start=$SECONDS
  SRC="$DIR/src"  # built in place: a failed build resumes from its compiled objects
  if [ ! -d "$SRC" ]; then
    [ -f "$DIR/opencv_python_headless-$VERSION.tar.gz" ] || "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary opencv-python-headless \
      -d "$DIR" "opencv-python-headless==$VERSION" >"$DIR/build.log" 2>&1 || { tail -30 "$DIR/build.log" >&2; exit 1; }
    mkdir "$SRC.tmp"
    tar -xzf "$DIR/opencv_python_headless-$VERSION.tar.gz" -C "$SRC.tmp" --strip-components=1
    # OpenCV's typing-stub generator expects modules left out here (Feature2D...) and writes no stubs (a warning);
    # the sdist's setup.py then refuses to package without their py.typed marker. The app needs no stubs.
    sed -i -e 's|\[ r"python/cv2/py.typed" \] if sys.version_info >= (3, 6) else \[\]|[]|' \
      -e 's|rearrange_cmake_output_data\["cv2.typing"\] = .*|pass  # no typing stubs: modules left out|' "$SRC.tmp/setup.py"
    ! grep -q 'python/cv2/py.typed\|"cv2.typing"' "$SRC.tmp/setup.py" || { echo "cannot patch $SRC.tmp/setup.py" >&2; exit 1; }
    mv "$SRC.tmp" "$SRC"
  fi
  # The sdist's build requirements in a venv of their own, kept with the build: stable paths, so a failed or
  # interrupted build resumes from its compiled objects instead of starting over.
  BENV="$DIR/buildenv"
  if [ ! -x "$BENV/bin/python" ]; then
    "$PY" -m venv "$BENV.tmp"
    "$BENV.tmp/bin/python" -m pip install -q --disable-pip-version-check "numpy==2.0.2" "scikit-build>=0.14" \
      "setuptools==59.2.0" packaging "cmake>=3.24,<5" ninja wheel >>"$DIR/build.log" 2>&1 \
      || { tail -30 "$DIR/build.log" >&2; exit 1; }
    mv "$BENV.tmp" "$BENV"
  fi
  (cd "$SRC" && PATH="$BENV/bin:$PATH" ENABLE_HEADLESS=1 CMAKE_ARGS="$FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$BENV/bin/python" -m pip wheel -v --disable-pip-version-check --no-deps --no-build-isolation -w "$DIR" . \
    >>"$DIR/build.log" 2>&1) || { tail -30 "$DIR/build.log" >&2; exit 1; }
  echo "== built in $((SECONDS - start)) s" >&2
  WHEEL="$(ls "$DIR"/opencv_python_headless-"$VERSION"-*.whl | head -1)"
fi
echo "$WHEEL"
