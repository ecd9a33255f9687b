#!/usr/bin/env bash
# The same jobs on 1 and 2 MPI ranks x 1 thread, side by side on this machine:
# simulate, evaluate and train, each timed end to end (rendering, estimation,
# gathers and writing included). Prints one JSON line per job with the
# throughput of each and the ratio, then the machine.
#   benchmarks/mpi_scaling.sh [BUILD_DIR] [SCALE]
# SCALE multiplies every job's size (default 1: about two minutes here).
set -euo pipefail
shopt -s inherit_errexit  # a failed run inside $(...) stops the benchmark
build=${1:-build}
scale=${2:-1}
cli=$(cd "$build" && pwd)/deepshear
command -v mpirun >/dev/null || { echo "mpi_scaling: mpirun not found (install openmpi-bin)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n_sim=$((30000 * scale)) n_eval=$((20000 * scale)) n_train=$((20000 * scale))
declare -A jobs=(
  [simulate]="simulate --n $n_sim --seed 3 -o s.fits"
  [evaluate]="evaluate --estimators cnn,rrg --symmetrise false --n $n_eval --calibration_n 2000 --nboot 10 --sweep_n 100 --fig11_fractions 0 --backgrounds 0 --out ev"
  [train]="train --train.n $n_train --val_n 2000 --refit_n 1000 --calibration_n 1000 --epochs 1 --batch 100 --evaluate_n 0 --out m.dsm")
declare -A items=([simulate]=$n_sim [evaluate]=$n_eval [train]=$n_train)
seconds() {  # seconds of one run: ranks, job
  local dir="$work/$2.$1"
  mkdir -p "$dir"
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$dir" && mpirun --oversubscribe --bind-to core -np "$1" "$cli" ${jobs[$2]} --threads 1 -q >/dev/null)
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
for job in simulate evaluate train; do
  s1=$(seconds 1 "$job")
  s2=$(seconds 2 "$job")
  awk -v job="$job" -v n="${items[$job]}" -v a="$s1" -v b="$s2" 'BEGIN {
    printf "{\"job\": \"%s\", \"items\": %d, \"one_rank_per_s\": %.0f, \"two_ranks_per_s\": %.0f, \"ratio\": %.3f}\n",
           job, n, n / a, n / b, a / b }'
done
echo "{\"machine\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\", \"cores\": $(nproc)}"
