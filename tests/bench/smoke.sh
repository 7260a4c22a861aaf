#!/usr/bin/env bash
# Smoke test of the benchmark harness (bench/interleave.sh, bench_run_plan,
# bench/report.py): raw OpenSSL and our module take turns for two tiny
# operations; every measurement must be reported and paired into the table.
# Then a partner that fails during set-up (module missing) must make the run fail
# promptly instead of leaving the other program waiting for its turn.
#   smoke.sh SOURCE_DIR RAWBENCH P11BENCH MODULE
set -euo pipefail
SRC=$1 RAWBENCH=$2 P11BENCH=$3 MODULE=$4
WORK=$(mktemp -d /tmp/chsm-bench-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
source "$SRC/bench/interleave.sh"
mkdir -p "$WORK/store" && chmod 700 "$WORK" "$WORK/store"
printf '[token]\nstorage_path = "%s/store"\n[security]\npbkdf2_iterations = 100000\n[audit]\nlog_path = "%s/a.jsonl"\n' \
  "$WORK" "$WORK" > "$WORK/c.toml"
PLAN=(--seconds 0.05 --slices 2 --threads 1,2 --ops hmac_sha256_64,random_32)
bench_cmd_raw() { "$RAWBENCH" "${PLAN[@]}" "$@"; }
bench_cmd_craton() {
  CRATON_HSM_CONFIG=$WORK/c.toml "$P11BENCH" --module "$MOD" --impl craton --init 87654321 --pin 12345678 \
    --slot 0 "${PLAN[@]}" "$@"
}
MOD=$MODULE
mkdir "$WORK/ok"
interleave_run "$WORK/ok" raw craton
for p in raw craton; do
  n=$(grep -c '^RESULT' "$WORK/ok/$p.out")
  [ "$n" = 8 ] || { echo "FAIL: $p printed $n RESULT lines, expected 8"; cat "$WORK/ok/$p.out"; exit 1; }
done
cat "$WORK/ok/raw.out" "$WORK/ok/craton.out" | /usr/bin/python3 "$SRC/bench/report.py" > "$WORK/table"
for op in hmac_sha256_64 random_32; do
  rows=$(awk -v op="$op" '$1 == op && ($2 == 1 || $2 == 2) && $9 ~ /^[0-9.]+$/' "$WORK/table" | wc -l)
  [ "$rows" = 2 ] || { echo "FAIL: $op has $rows paired rows"; cat "$WORK/table"; exit 1; }
done
grep -q '^measurements per figure: 2;' "$WORK/table" || { echo "FAIL: slice count"; cat "$WORK/table"; exit 1; }
echo "ok: interleaved run paired 2 slices x 2 thread counts x 2 operations"

# Generations: fresh processes each time, every second one in reverse turn order, outputs concatenated.
mkdir "$WORK/gens"
interleave_generations "$WORK/gens" 2 raw craton 2> "$WORK/gens.log"
grep -q 'generation 1/2 (turns: raw craton)' "$WORK/gens.log" &&
  grep -q 'generation 2/2 (turns: craton raw)' "$WORK/gens.log" ||
  { echo "FAIL: generation turn order"; cat "$WORK/gens.log"; exit 1; }
for p in raw craton; do
  n=$(grep -c '^RESULT' "$WORK/gens/$p.out")
  [ "$n" = 16 ] || { echo "FAIL: $p printed $n RESULT lines over 2 generations, expected 16"; exit 1; }
done
echo "ok: two generations, the second in reverse turn order"

# The audit table (bench/audit/report.py) on made-up measurements: the loss is the median of
# paired per-slice losses against the mean of the pass's two off processes, and the verdict follows it.
audit_lines() { # audit_lines DEFAULT_FACTOR EACH_FACTOR
  for i in 1 2 3 4 5; do
    base=$((100000 + i * 7000))
    for t in 1 2; do
      for op in ecdsa_p256_sign hmac_sha256_64; do
        echo "RESULT off $op $t $base 1 1"
        echo "RESULT off_again $op $t $base 1 1"
        awk -v b="$base" -v f="$1" -v op="$op" -v t="$t" 'BEGIN { printf "RESULT default %s %s %.1f 1 1\n", op, t, b * f }'
        echo "RESULT off_b $op $t $base 1 1"
        echo "RESULT off_again_b $op $t $base 1 1"
        awk -v b="$base" -v f="$2" -v op="$op" -v t="$t" 'BEGIN { printf "RESULT each_batch %s %s %.1f 1 1\n", op, t, b * f }'
      done
    done
  done
}
audit_lines 0.97 0.90 | /usr/bin/python3 "$SRC/bench/audit/report.py" > "$WORK/audit_ok" ||
  { echo "FAIL: 3 % / 10 % losses should meet the goals"; cat "$WORK/audit_ok"; exit 1; }
awk '$1 == "hmac_sha256_64" && $2 == 2 && $5 == "3.0" { found = 1 } END { exit !found }' "$WORK/audit_ok" ||
  { echo "FAIL: expected a 3.0 % loss"; cat "$WORK/audit_ok"; exit 1; }
if audit_lines 0.94 0.90 | /usr/bin/python3 "$SRC/bench/audit/report.py" > "$WORK/audit_bad"; then
  echo "FAIL: a 6 % default loss passed"; cat "$WORK/audit_bad"; exit 1
fi
grep -q 'default<=5%: MISSED' "$WORK/audit_bad" || { echo "FAIL: no MISSED row"; cat "$WORK/audit_bad"; exit 1; }
if audit_lines 0.97 0.80 | /usr/bin/python3 "$SRC/bench/audit/report.py" > "$WORK/audit_bad2"; then
  echo "FAIL: a 20 % each+batch ECDSA loss passed"; cat "$WORK/audit_bad2"; exit 1
fi
echo "ok: the audit table computes paired losses and its verdicts"

# A module that cannot be loaded: the craton program fails during set-up.
MOD=$WORK/no-such-module.so
mkdir "$WORK/bad"
start=$(date +%s)
if interleave_run "$WORK/bad" raw craton 2> "$WORK/bad.log"; then
  echo "FAIL: a partner that failed during set-up did not fail the run"; exit 1
fi
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 60 ] || { echo "FAIL: the failed run took ${elapsed}s to give up"; exit 1; }
grep -q 'craton' "$WORK/bad.log" || { echo "FAIL: the failure does not name the program"; cat "$WORK/bad.log"; exit 1; }
echo "ok: a failing partner stops the run: $(head -1 "$WORK/bad.log")"
