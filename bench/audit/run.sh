#!/usr/bin/env bash
# Audit overhead benchmark (issue 5, "Speed"): our module with [audit]
# enabled=false vs the default settings vs key_use="each" + sync="batch", for
# AES-256-GCM 4 KiB encrypt, HMAC-SHA256 64 B and ECDSA P-256 sign at 1 and 2
# threads. Two passes, each of three programs running at once and taking
# turns measurement by measurement (bench/interleave.sh):
#   pass 1: off, default, off_again      (the default <= 5 % goal)
#   pass 2: off_b, each_batch, off_again_b (the each+batch columns)
# each_batch writes ~100 MB of log per second at AES speed; kept in a pass of
# its own, the page-cache writeback and rotations it causes do not land in the
# default-vs-off comparison. Each loss is the median over the slices of the
# loss against the neighbouring "off" measurements: on this shared machine
# speed drifts by up to 50 % over minutes, and less between measurements a
# second apart. "off_again" is a second copy of "off": its "loss" is the
# harness's own error, printed as the control column. The programs are
# restarted every SLICES/GENERATIONS slices (default: after every slice), and every
# second generation takes its turns in reverse order, so neither one process
# running a little faster for its whole life nor the program it follows decides
# a row. Each program idles 150 ms after its measurement (longer than the
# 100 ms batch window), so the flusher of one configuration does not run into
# the next one's measurement.
#   bench/audit/run.sh [--seconds S] [--slices N] [--generations G] [--threads 1,2]
# Writes bench/results/audit-latest.txt (date, machine, raw lines, table).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER=${BENCH_SECONDS:-0.4}
SLICES=${BENCH_SLICES:-36}
GENERATIONS=${BENCH_GENERATIONS:-36}
THREADS=1,2
OPS=${BENCH_AUDIT_OPS:-aes256_gcm_enc_4k,hmac_sha256_64,ecdsa_p256_sign}
PASSES=${BENCH_AUDIT_PASSES:-1,2} # a shorter look at one pass: BENCH_AUDIT_PASSES=1
BUILD=${BUILD_DIR:-build-auditacc}
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER=$2; shift 2 ;;
    --slices) SLICES=$2; shift 2 ;;
    --generations) GENERATIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) echo "usage: bench/audit/run.sh [--seconds S] [--slices N] [--generations G] [--threads 1,2]" >&2; exit 2 ;;
  esac
done
PER_GEN=$(( (SLICES + GENERATIONS - 1) / GENERATIONS ))
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target craton_hsm p11bench >/dev/null
source bench/interleave.sh
MODULE=$BUILD/src/pkcs11/libcraton_hsm.so
WORK=$(mktemp -d /tmp/craton-auditbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/results.txt
{
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench ':!bench/results' || echo ' (modified)')"
  echo "# seconds per measurement: $SECONDS_PER; slices: $((PER_GEN * GENERATIONS)) ($GENERATIONS generations of" \
       "processes x $PER_GEN); threads: $THREADS; the configurations interleaved measurement by measurement"
  echo "# configs: off = [audit] enabled=false; default = defaults (summary, sync always);" \
       "each_batch = key_use=\"each\", sync=\"batch\"; off_again = off in a second process (control);" \
       "pass 1 = off, default, off_again; pass 2 = off_b, each_batch, off_again_b (the same configs)"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT"

CONFIGS_1=(off default off_again)
CONFIGS_2=(off_b each_batch off_again_b)
for cfg in "${CONFIGS_1[@]}" "${CONFIGS_2[@]}"; do
  dir=$WORK/$cfg
  mkdir -p "$dir/store" && chmod 700 "$dir" "$dir/store"
  {
    printf '[token]\nstorage_path = "%s/store"\n[security]\npbkdf2_iterations = 100000\n[audit]\n' "$dir"
    printf 'log_path = "%s/audit.jsonl"\n' "$dir"
    case $cfg in
      off*) echo 'enabled = false' ;;
      each_batch) printf 'key_use = "each"\nsync = "batch"\n' ;;
    esac
  } > "$dir/craton_hsm.toml"
done
bench_cmd() { # bench_cmd CONFIG TURN-ARGS...
  local cfg=$1; shift
  CRATON_HSM_CONFIG=$WORK/$cfg/craton_hsm.toml CRATON_HSM_LOG=error "$BUILD/bench/p11bench" --module "$MODULE" \
    --impl "$cfg" --init 87654321 --pin 12345678 --slot 0 --seconds "$SECONDS_PER" --slices "$PER_GEN" \
    --threads "$THREADS" --ops "$OPS" --settle-ms 150 "$@"
}
for cfg in "${CONFIGS_1[@]}" "${CONFIGS_2[@]}"; do
  eval "bench_cmd_$cfg() { bench_cmd $cfg \"\$@\"; }"
done

status=0
echo "== pass 1: audit off, default, off again, interleaved ($GENERATIONS x $PER_GEN slices of ${SECONDS_PER}s per figure)" >&2
mkdir -p "$WORK/pass1" "$WORK/pass2"
case ,$PASSES, in *,1,*) interleave_generations "$WORK/pass1" "$GENERATIONS" "${CONFIGS_1[@]}" || status=1 ;; esac
echo "== pass 2: audit off, each+batch, off again, interleaved" >&2
case ,$PASSES, in
  *,2,*) [ $status -eq 0 ] && { interleave_generations "$WORK/pass2" "$GENERATIONS" "${CONFIGS_2[@]}" || status=1; } ;;
esac
for cfg in "${CONFIGS_1[@]}"; do cat "$WORK/pass1/$cfg.out" 2>/dev/null || true; done >> "$OUT"
for cfg in "${CONFIGS_2[@]}"; do cat "$WORK/pass2/$cfg.out" 2>/dev/null || true; done >> "$OUT"
for cfg in default each_batch; do
  [ -f "$WORK/$cfg/audit.jsonl" ] && echo "# $cfg: audit log $(wc -l < "$WORK/$cfg/audit.jsonl") lines" >> "$OUT"
done
/usr/bin/python3 bench/audit/report.py < "$OUT" > "$WORK/table.txt" || status=1
cat "$WORK/table.txt"
mkdir -p bench/results
{ cat "$OUT"; echo; cat "$WORK/table.txt"; } > bench/results/audit-latest.txt
echo "saved bench/results/audit-latest.txt" >&2
exit $status
