#!/usr/bin/env bash
# Feeds fuzz inputs (a corpus, or the folders a libFuzzer run filled) through
# the deepshear command and counts what happened to each: accepted (exit 0, or
# still running at the time limit), refused cleanly (exit 1 or 2 with one
# "deepshear: error:" line), or anything else (a crash, a signal, a message
# of more lines), which is listed.
#   tests/fuzz/through_commands.sh build/deepshear fits:DIR model:DIR sextractor:DIR config:DIR json:DIR [--max N]
set -uo pipefail
cli=$1; shift
max=1000000
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$cli" simulate --n 4 --seed 1 -o "$work/stamps.fits" -q
"$cli" mock-cluster -o "$work/field" --size 40 --seed 1 -q
run_one() {  # kind file -> prints accepted|refused|BAD
  local kind=$1 f=$2 rc
  case $kind in
    fits) timeout 20 "$cli" inspect "$f" >/dev/null 2>"$work/err" ;;
    model) timeout 20 "$cli" estimate "$work/stamps.fits" --model "$f" -o "$work/e.fits" -q 2>"$work/err" ;;
    sextractor) timeout 60 "$cli" cluster --image "$work/field/mock_sci.fits" --weight "$work/field/mock_wht.fits" \
                  --catalogue "$f" --estimators rrg --out "$work/cl" -q >/dev/null 2>"$work/err" ;;
    config) timeout 20 "$cli" simulate --config "$f" --n 2 -o "$work/s.fits" -q 2>"$work/err" ;;
    json) timeout 20 "$cli" render --json "$f" -o "$work/r.fits" -q 2>"$work/err" ;;
  esac
  rc=$?
  if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then echo accepted
  elif { [ $rc -eq 1 ] || [ $rc -eq 2 ]; } && [ "$(grep -c . "$work/err")" -le 1 ] && grep -q '^deepshear: error: ' "$work/err"; then echo refused
  else echo "BAD rc=$rc $(head -c 200 "$work/err" | tr '\n' ' ')"; fi
}
for spec in "$@"; do
  if [ "$spec" = --max ]; then continue; fi
  if [[ "$spec" =~ ^[0-9]+$ ]]; then max=$spec; continue; fi
  kind=${spec%%:*} dir=${spec#*:}
  a=0 r=0 b=0 n=0
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1)); [ $n -gt "$max" ] && break
    out=$(run_one "$kind" "$f")
    case $out in accepted) a=$((a + 1)) ;; refused) r=$((r + 1)) ;; *) b=$((b + 1)); echo "$kind $f: $out" ;; esac
  done
  echo "$kind: $((a + r + b)) inputs: $a accepted, $r refused with one line, $b other"
done
