#!/usr/bin/env bash
# deepshear's one set-up script.
#   ./run.sh demo          build, then run the main job on the shipped defaults
#                          (a small evaluation of the estimators into out/demo/)
#   ./run.sh test [--all]  build, then run the test suite through ctest
#                          (--all adds the slow accuracy runs)
#   ./run.sh bench         build, then run the benchmarks
#   ./run.sh build         install missing Debian packages (as root) and build
# Builds incrementally into build/ (Release, for this CPU; set
# DEEPSHEAR_ARCH=x86-64-v3 for a portable build).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config libeigen3-dev libfftw3-dev libcfitsio-dev doctest-dev
          libcairo2-dev fonts-dejavu-core libhdf5-dev gzip source-extractor)
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

build() {
  ensure_packages
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DDEEPSHEAR_ARCH="${DEEPSHEAR_ARCH:-native}" >/dev/null
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
  demo)
    build
    "$BUILD_DIR/deepshear" info
    "$BUILD_DIR/deepshear" selfcheck
    # The main job on the shipped defaults: the paper's evaluation on a small
    # simulated test set, every estimator on the same stamps.
    extra=()
    estimators=rrg,ksb
    if [ -f data/model_default.dsm ]; then
      estimators=cnn,rrg,ksb
      extra=(--fig10-models data/model_noise_x0.5.dsm,data/model_noise_x0.25.dsm --fig10-noise-scales 0.5,0.25)
    fi
    "$BUILD_DIR/deepshear" evaluate --estimators "$estimators" --n 2000 --calibration-n 2000 \
      --sweep-n 300 "${extra[@]}" --out out/demo ;;
  bench)
    build
    "$BUILD_DIR/deepshear" info --json
    for b in nn render estimators; do "$BUILD_DIR/deepshear" bench "$b" "$@"; done
    for b in "$BUILD_DIR"/benchmarks/bench_*; do
      if [ -x "$b" ]; then "$b" "$@"; fi
    done ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    [ "$cmd" = help ] || exit 2 ;;
esac
