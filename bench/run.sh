#!/usr/bin/env bash
# Mechanism benchmark (issue 4): one invocation runs raw OpenSSL, our module
# and SoftHSMv2 on the same machine, prints the per-operation table with the
# ratios, and saves the raw RESULT lines plus the table under bench/results/.
#   bench/run.sh [--seconds S] [--threads 1,2] [--ops a,b] [--rounds R]
# With R rounds (default 3) the three implementations run one after another in
# each round and the table reports, per figure, the median of the R rounds: on a
# shared machine one burst of someone else's work would otherwise decide a row.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER=${BENCH_SECONDS:-3}
THREADS=1,2
OPS=""
ROUNDS=${BENCH_ROUNDS:-3}
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --ops) OPS="--ops $2"; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [--seconds S] [--threads 1,2] [--ops a,b] [--rounds R]" >&2; exit 2 ;;
  esac
done
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target craton_hsm p11bench rawbench >/dev/null
WORK=$(mktemp -d /tmp/craton-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/results.txt
STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
  echo "# date: $STAMP"
  echo "# machine: $(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# openssl: $(openssl version)"
  echo "# seconds per measurement: $SECONDS_PER; threads: $THREADS; rounds: $ROUNDS (table: median per figure)"
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
INIT="--init 87654321"
for round in $(seq 1 "$ROUNDS"); do
  echo "# round $round" >> "$OUT"
  echo "== round $round/$ROUNDS: raw OpenSSL" >&2
  build/bench/rawbench --seconds "$SECONDS_PER" --threads "$THREADS" $OPS | tee -a "$OUT" >&2

  echo "== round $round/$ROUNDS: Craton HSM" >&2
  CRATON_HSM_CONFIG=$WORK/craton/craton_hsm.toml build/bench/p11bench --module build/src/pkcs11/libcraton_hsm.so \
    --impl craton $INIT --pin 12345678 --slot 0 --seconds "$SECONDS_PER" --threads "$THREADS" $OPS \
    | tee -a "$OUT" >&2
  INIT=""

  echo "== round $round/$ROUNDS: SoftHSMv2" >&2
  build/bench/p11bench --module /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so --impl softhsm2 \
    --token-label bench --pin 12345678 --seconds "$SECONDS_PER" --threads "$THREADS" $OPS | tee -a "$OUT" >&2
done

echo >&2
/usr/bin/python3 bench/report.py < "$OUT" | tee "$WORK/table.txt"
mkdir -p bench/results
cp "$OUT" "bench/results/mech-latest.raw"
{ grep '^#' "$OUT" | grep -v '^# round'; echo; cat "$WORK/table.txt"; } > bench/results/mech-latest.txt
echo "saved bench/results/mech-latest.txt" >&2
