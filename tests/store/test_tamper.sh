#!/usr/bin/env bash
# Issue 3, tamper through the module: with every process closed, edit the
# database with the sqlite3 CLI — flip a byte in a secret part, flip a byte
# in a public part, swap two records' secret ciphertexts, copy a whole row
# from another token's store, and copy another token's ciphertext over an
# existing object — then reopen through the module. Documented behaviour
# (docs/store-format.md "Records", src/core/cache.c feed_bad): the touched
# object is absent from C_FindObjects, its handle answers CKR_DEVICE_ERROR,
# and an error line "object <uid> failed authentication" is logged; the
# process never crashes; untouched objects still work. A second part
# tampers a row while a process holds the object's handle: the handle then
# answers CKR_DEVICE_ERROR.
. "$(dirname "$0")/lib.sh"
mkstore "$W/b" TAMPER02
use "$W/b"
run "other token: init" "$ST" "$MODULE" init
run "other token: create o-0..o-1" "$ST" "$MODULE" create o 0 2
grep -E '^[0-9a-f]{32} ' "$W/last.out" > "$W/uids_b"
DBB=$DB
mkstore "$W/a" TAMPER01
use "$W/a"
run "init" "$ST" "$MODULE" init
run "create t-0..t-7" "$ST" "$MODULE" create t 0 8
grep -E '^[0-9a-f]{32} ' "$W/last.out" > "$W/uids"
uid() { awk -v l="$1" '$2 == l {print toupper($1)}' "$W/uids" "$W/uids_b"; }
q() { sqlite3 "$DB" "$@"; }
flip() { # flip COLUMN LABEL [bump]: xor one byte in the middle of the blob
  local col=$1 id; id=$(uid "$2")
  local h; h=$(q "SELECT hex($col) FROM objects WHERE hex(id)='$id'")
  local pos=$(( (${#h} / 4) * 2 )) b; b=${h:$pos:2}
  local nh="${h:0:$pos}$(printf '%02X' $((16#$b ^ 0x5a)))${h:$((pos + 2))}"
  local bump=""
  [ -n "${3:-}" ] && bump="UPDATE tokens SET rev = rev + 1 WHERE slot = 0; UPDATE objects SET rev = (SELECT rev FROM tokens WHERE slot = 0) WHERE hex(id)='$id';"
  q "BEGIN IMMEDIATE; UPDATE objects SET $col = X'$nh' WHERE hex(id)='$id'; $bump COMMIT;"
  [ "$(q "SELECT hex($col) FROM objects WHERE hex(id)='$id'")" = "$nh" ] && ok "flipped a byte of $2.$col" || fail "flip $2.$col"
}
flip sec_blob t-0
flip pub_blob t-4
T1=$(uid t-1) T2=$(uid t-2)
q "BEGIN IMMEDIATE; CREATE TEMP TABLE s AS SELECT id, sec_blob FROM objects WHERE hex(id) IN ('$T1','$T2');
   UPDATE objects SET sec_blob = (SELECT sec_blob FROM s WHERE s.id != objects.id) WHERE hex(id) IN ('$T1','$T2'); COMMIT;"
[ "$(q "SELECT count(*) FROM objects o, objects p WHERE hex(o.id)='$T1' AND hex(p.id)='$T2' AND o.sec_blob != p.sec_blob")" = 1 ] \
  && ok "swapped the secret ciphertexts of t-1 and t-2" || fail "swap"
O0=$(uid o-0) O1=$(uid o-1) T3=$(uid t-3)
q "ATTACH '$DBB' AS other; BEGIN IMMEDIATE;
   INSERT INTO objects SELECT * FROM other.objects WHERE hex(id)='$O0';
   UPDATE objects SET pub_blob = (SELECT pub_blob FROM other.objects WHERE hex(id)='$O1'),
                      sec_blob = (SELECT sec_blob FROM other.objects WHERE hex(id)='$O1') WHERE hex(id)='$T3'; COMMIT;" \
  && ok "copied o-0's row from the other token's store, and o-1's ciphertexts over t-3" || fail "copy from other store"
integrity "after tampering"

"$ST" "$MODULE" absent t-0 t-1 t-2 t-3 t-4 o-0 >"$W/abs.out" 2>"$W/abs.err"; rc=$?
[ $rc -lt 128 ] && ok "reopen: no crash (exit $rc)" || fail "reopen crashed: exit $rc"
grep -q ', 0 failed' "$W/abs.out" && ok "touched objects absent from C_FindObjects ($(tail -1 "$W/abs.out"))" \
  || { fail "touched objects still found"; cat "$W/abs.out" "$W/abs.err" >&2; }
for l in t-0 t-1 t-2 t-3 t-4 o-0; do
  u=$(uid $l | tr A-F a-f)
  line=$(grep -i "object $u failed authentication" "$W/abs.err" | head -1)
  [ -n "$line" ] && ok "$l: error log line: $line" || fail "$l: no error log line naming $u"
done
run "untouched t-5..t-7 still found and usable" "$ST" "$MODULE" verify t 5 8
run "count" "$ST" "$MODULE" count
grep -q '^count 3$' "$W/last.out" && ok "exactly the 3 untouched keys are visible" || fail "$(grep count "$W/last.out")"

# live: a process holds t-6's handle while its row is tampered (rev bumped so the change feed delivers it)
"$ST" "$MODULE" live-tamper "$W/ready" "$W/go" t-5 t-6 >"$W/live.out" 2>"$W/live.err" &
LP=$!
for _ in $(seq 1 500); do [ -e "$W/ready" ] && break; sleep 0.02; done
flip sec_blob t-6 bump
touch "$W/go"
wait $LP; rc=$?
if [ $rc -eq 0 ] && grep -q ', 0 failed' "$W/live.out"; then ok "live: $(grep '^live-tamper:' "$W/live.out")"
else fail "live tamper: exit $rc"; cat "$W/live.out" "$W/live.err" >&2; fi
u=$(uid t-6 | tr A-F a-f)
grep -qi "object $u failed authentication" "$W/live.err" && ok "live: error log line for t-6" || fail "live: no error log line"
finish
