#!/usr/bin/env bash
# deepshear's one set-up script.
#   ./run.sh demo          build, then run the main job on the shipped defaults
#                          (the built-in mock cluster -> shear catalogue -> maps, in out/demo/)
#   ./run.sh test [--all]  build, then run the test suite through ctest
#                          (--all adds the slow accuracy runs)
#   ./run.sh bench         build, then run the benchmarks
#   ./run.sh sanitize [--all]  build with AddressSanitizer and UndefinedBehaviorSanitizer
#                          into build-sanitize/ and run the test suite there
#   ./run.sh build         install missing Debian packages (as root) and build
# Builds incrementally into build/ (Release, for this CPU; set
# DEEPSHEAR_ARCH=x86-64-v3 for a portable build).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config libeigen3-dev libfftw3-dev libcfitsio-dev doctest-dev
          libcairo2-dev fonts-dejavu-core libhdf5-dev gzip source-extractor nlohmann-json3-dev)
# Optional: used when present, never fatal. fitsverify checks every FITS output in the tests;
# Python 3 with numpy, pybind11 and pytest build and test the Python package (python/);
# Open MPI splits work over the ranks of an MPI job.
OPTIONAL_PACKAGES=(fitsverify python3-dev python3-numpy pybind11-dev python3-pytest libopenmpi-dev openmpi-bin)
BUILD_DIR=${DEEPSHEAR_BUILD_DIR:-build}
JOBS=$(nproc 2>/dev/null || echo 2)

ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "deepshear: missing Debian packages; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "deepshear: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_optional_packages() {
  local missing=()
  for p in "${OPTIONAL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] || [ "$(id -u)" -ne 0 ] && return 0
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    echo "deepshear: optional ${missing[*]} not installed (the tests that use it skip)" >&2
}

build() {
  ensure_packages
  ensure_optional_packages
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    local launcher=()  # ccache, when this machine has it, for faster rebuilds
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DDEEPSHEAR_ARCH="${DEEPSHEAR_ARCH:-native}" \
      "${launcher[@]}" >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "$JOBS" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^-- |^Consolidate|^Scanning' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "deepshear: build failed" >&2; exit 1; }
}

cmd=${1:-help}
shift || true
case "$cmd" in
  build)
    build ;;
  test)
    build
    labels=(-LE slow)
    [ "${1:-}" = "--all" ] && labels=()
    ctest --test-dir "$BUILD_DIR" -j "$JOBS" --output-on-failure --timeout 900 "${labels[@]}" ;;
  sanitize)
    ensure_packages
    if [ ! -f build-sanitize/CMakeCache.txt ]; then
      cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEEPSHEAR_ARCH="${DEEPSHEAR_ARCH:-native}" \
        -DDEEPSHEAR_SANITIZE=address,undefined -DDEEPSHEAR_BUILD_BENCHMARKS=OFF >/dev/null
    fi
    cmake --build build-sanitize -j "$JOBS" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^-- |^Consolidate|^Scanning' || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "deepshear: sanitizer build failed" >&2; exit 1; }
    # fontconfig (under cairo's text) keeps its cache to the end: its one known leak.
    export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    labels=(-LE slow)
    [ "${1:-}" = "--all" ] && labels=()
    ctest --test-dir build-sanitize -j "$JOBS" --output-on-failure --timeout 1800 "${labels[@]}" ;;
  demo)
    build
    "$BUILD_DIR/deepshear" info
    "$BUILD_DIR/deepshear" selfcheck
    # The main job on the shipped defaults: the built-in mock cluster (an NFW
    # halo lensing the parametric galaxy population, 3' x 3' at 0.065"/px)
    # through deepshear cluster (SExtractor, cuts, CNN and RRG on the same
    # stamps) and deepshear maps.
    out=out/demo
    "$BUILD_DIR/deepshear" mock-cluster -o "$out/field"
    "$BUILD_DIR/deepshear" cluster --image "$out/field/mock_sci.fits" --weight "$out/field/mock_wht.fits" \
      --truth "$out/field/mock_truth.fits" --out "$out/cluster"
    "$BUILD_DIR/deepshear" maps "$out/cluster/mock_shear.fits" --z-lens 0.35 --z-source 1.0 \
      --centre-radec 150,2.2 --concentration 4 --out "$out/maps"  # the mock's centre and NFW concentration
    echo "demo: shear catalogue $out/cluster/mock_shear.fits; point-source selection" \
         "$out/cluster/mock_point_sources.png; maps, profiles and NFW fits $out/maps/index.html" ;;
  bench)
    build
    "$BUILD_DIR/deepshear" info --json
    for b in nn render estimators; do "$BUILD_DIR/deepshear" bench "$b" "$@"; done
    for b in "$BUILD_DIR"/benchmarks/bench_*; do
      if [ -x "$b" ]; then "$b" "$@"; fi
    done
    # The Python package beside the command, when it is built.
    py=$(sed -n 's/^Python3_EXECUTABLE:FILEPATH=//p' "$BUILD_DIR/CMakeCache.txt")
    if [ -n "$py" ] && ls "$BUILD_DIR"/python/deepshear/_core*.so >/dev/null 2>&1; then
      PYTHONPATH="$BUILD_DIR/python" "$py" benchmarks/python_estimate.py --cli "$BUILD_DIR/deepshear" "$@"
    fi ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    [ "$cmd" = help ] || exit 2 ;;
esac
