#!/usr/bin/env bash
# Issue 3, two processes at once for N seconds on one store: both create
# token keys and use keys, each regularly finds and uses keys the OTHER has
# acknowledged, and at the end each (still the same process) sees and uses
# every object of both. No error anywhere; integrity_check ok; a fresh third
# process counts exactly the created objects (no loss).
. "$(dirname "$0")/lib.sh"
SECS=$(acceptance seconds 30 8 STORE_TEST_SECONDS)
mkstore "$W/a" CONCUR01
use "$W/a"
run "init" "$ST" "$MODULE" init
"$ST" "$MODULE" worker "$SECS" P1 "$W/p1" "$W/p2" >"$W/w1.out" 2>"$W/w1.err" &
P1=$!
"$ST" "$MODULE" worker "$SECS" P2 "$W/p2" "$W/p1" >"$W/w2.out" 2>"$W/w2.err" &
P2=$!
wait $P1; R1=$?
wait $P2; R2=$?
for i in 1 2; do
  r=R$i
  if [ "${!r}" -eq 0 ] && grep -q ', 0 failed' "$W/w$i.out"; then ok "worker $i: $(grep -v '^worker' "$W/w$i.out" | tr '\n' ';') $(tail -1 "$W/w$i.out")"
  else fail "worker $i exit ${!r}"; sed 's/^/    | /' "$W/w$i.out" "$W/w$i.err" | tail -20 >&2; fi
done
grep -q ERROR "$W/w1.err" "$W/w2.err" && fail "error log lines: $(grep -h ERROR "$W"/w?.err | head -3)" || ok "no error log line"
N=$(cat "$W/p1" "$W/p2" | wc -l)
[ "$N" -gt 0 ] && ok "$N objects created in $SECS s by two processes" || fail "no object created"
integrity "after two writers"
run "fresh process: count" "$ST" "$MODULE" count
grep -q "^count $((N + 0))$" "$W/last.out" && ok "fresh process counts exactly $N keys" || fail "count: $(grep count "$W/last.out"), want $N"
finish
