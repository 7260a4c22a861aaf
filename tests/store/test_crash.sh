#!/usr/bin/env bash
# Issue 3, crash safety: a child creates and destroys token keys in a loop,
# logging each create only after CKR_OK (st_loops.c, crash-child); the
# driver SIGKILLs it at random moments — mostly while it writes, about one
# kill in eight during its start-up (C_Initialize, login) — and after every
# kill checks: sqlite3 integrity_check ok; a new process opens the store,
# logs in (so a login killed half-way never locks the PIN for good), and
# every acknowledged, not-being-destroyed key is present and usable, every
# destroyed key absent, nothing else present but the one create in flight.
. "$(dirname "$0")/lib.sh"
KILLS=$(acceptance kills 200 50 STORE_TEST_KILLS)
mkstore "$W/a" CRASH001
use "$W/a"
run "init" "$ST" "$MODULE" init
LOG=$W/crash.log
: > "$LOG"
bad=0; during_start=0; total_ack=0
for i in $(seq 1 "$KILLS"); do
  "$ST" "$MODULE" crash-child "$LOG" >/dev/null 2>"$W/child.err" &
  pid=$!
  if [ $((RANDOM % 8)) -eq 0 ]; then
    sleep "0.$(printf '%03d' $((RANDOM % 150)))"; during_start=$((during_start + 1))
  else
    for _ in $(seq 1 500); do grep -q "^R $pid\$" "$LOG" && break; kill -0 $pid 2>/dev/null || break; sleep 0.01; done
    sleep "0.$(printf '%03d' $((RANDOM % 250)))"
  fi
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null; rc=$?
  if [ $rc -ne 137 ]; then fail "kill $i: child exited $rc before the kill"; sed 's/^/    | /' "$W/child.err" >&2; bad=1; break; fi
  r=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)
  [ "$r" = ok ] || { fail "kill $i: integrity_check: $r"; bad=1; break; }
  if ! "$ST" "$MODULE" crash-check "$LOG" >"$W/check.out" 2>"$W/check.err" || ! grep -q ', 0 failed' "$W/check.out"; then
    fail "kill $i: crash-check"; sed 's/^/    | /' "$W/check.out" "$W/check.err" | tail -20 >&2; bad=1; break
  fi
  [ $((i % 25)) -eq 0 ] && echo "kill $i: $(grep '^crash-check:' "$W/check.out" | head -1)" >&2
done
acks=$(grep -c '^A ' "$LOG"); dels=$(grep -c '^D ' "$LOG")
if [ $bad -eq 0 ]; then
  ok "$KILLS SIGKILLs ($during_start during start-up): after each, integrity_check ok and every acknowledged object present and usable ($acks create acks, $dels destroys logged); last: $(grep '^crash-check:' "$W/check.out")"
fi
[ "$acks" -gt "$KILLS" ] && ok "the children really wrote between kills" || fail "only $acks acknowledged creates in $KILLS runs"
finish
