#!/usr/bin/env bash
# Mechanism benchmark (issue 4): one invocation runs raw OpenSSL, our module
# and SoftHSMv2 on the same machine, prints the per-operation table with the
# ratios, and saves the raw RESULT lines plus the table under bench/results/.
#   bench/run.sh [--seconds S] [--slices N] [--generations G] [--threads 1,2] [--ops a,b]
# The three programs run at once and take turns measurement by measurement
# (bench/interleave.sh): raw 1T, craton 1T, softhsm 1T, raw 2T, craton 2T,
# softhsm 2T, then the next slice of the same operation. Every ratio in the
# table is the median over the N slices of ratios between neighbouring
# measurements: on this shared machine speed drifts by up to 50 % over
# minutes, but not between measurements a second apart. The programs are
# restarted every SLICES/GENERATIONS slices (default 3 generations), so one
# process running a little faster or slower than an identical one for its
# whole life does not decide a row.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${BENCH_SECONDS:-0.5}
SLICES=${BENCH_SLICES:-9}
GENERATIONS=${BENCH_GENERATIONS:-3}
THREADS=1,2
OPS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER=$2; shift 2 ;;
    --slices) SLICES=$2; shift 2 ;;
    --generations) GENERATIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --ops) OPS=(--ops "$2"); shift 2 ;;
    *) echo "usage: bench/run.sh [--seconds S] [--slices N] [--generations G] [--threads 1,2] [--ops a,b]" >&2
       exit 2 ;;
  esac
done
PER_GEN=$(( (SLICES + GENERATIONS - 1) / GENERATIONS ))
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target craton_hsm p11bench rawbench >/dev/null
source bench/interleave.sh
WORK=$(mktemp -d /tmp/craton-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/results.txt
{
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# openssl: $(openssl version)"
  echo "# commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench ':!bench/results' || echo ' (modified)')"
  echo "# seconds per measurement: $SECONDS_PER; slices: $((PER_GEN * GENERATIONS)) ($GENERATIONS generations of" \
       "processes x $PER_GEN); threads: $THREADS;" \
       "raw, craton and softhsm2 interleaved measurement by measurement"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT"

mkdir -p "$WORK/craton/store" && chmod 700 "$WORK/craton" "$WORK/craton/store"
cat > "$WORK/craton/craton_hsm.toml" <<TOML
[token]
storage_path = "$WORK/craton/store"
[security]
pbkdf2_iterations = 100000
[audit]
log_path = "$WORK/craton/audit.jsonl"
TOML
mkdir -p "$WORK/softhsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK/softhsm/tokens" \
  > "$WORK/softhsm/softhsm2.conf"
export SOFTHSM2_CONF=$WORK/softhsm/softhsm2.conf
softhsm2-util --init-token --free --label bench --so-pin 87654321 --pin 12345678 >/dev/null

PLAN=(--seconds "$SECONDS_PER" --slices "$PER_GEN" --threads "$THREADS" "${OPS[@]}")
bench_cmd_raw() { build/bench/rawbench "${PLAN[@]}" "$@"; }
bench_cmd_craton() {
  CRATON_HSM_CONFIG=$WORK/craton/craton_hsm.toml build/bench/p11bench --module build/src/pkcs11/libcraton_hsm.so \
    --impl craton --init 87654321 --pin 12345678 --slot 0 "${PLAN[@]}" "$@"
}
bench_cmd_softhsm2() {
  build/bench/p11bench --module /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so --impl softhsm2 \
    --token-label bench --pin 12345678 "${PLAN[@]}" "$@"
}
echo "== raw OpenSSL, Craton HSM and SoftHSMv2, interleaved ($GENERATIONS x $PER_GEN slices of ${SECONDS_PER}s)" >&2
interleave_generations "$WORK" "$GENERATIONS" raw craton softhsm2
# RESULT lines in measurement order (the report pairs the n-th measurement of each program).
cat "$WORK/raw.out" "$WORK/craton.out" "$WORK/softhsm2.out" >> "$OUT"

/usr/bin/python3 bench/report.py < "$OUT" | tee "$WORK/table.txt"
mkdir -p bench/results
cp "$OUT" "bench/results/mech-latest.raw"
{ grep '^#' "$OUT"; echo; cat "$WORK/table.txt"; } > bench/results/mech-latest.txt
echo "saved bench/results/mech-latest.txt" >&2
