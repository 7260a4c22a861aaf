#!/usr/bin/env bash
# Issue 3 / brief "Nothing on disk ... holds plaintext key material or a
# PIN": import keys with known values (AES key, EC private scalar, RSA
# private exponent and primes via C_CreateObject), log in and out with known
# PINs (plus a wrong PIN and a changed PIN), write a backup archive with
# craton-hsm-admin and rotate the audit log; then search every file under the
# storage dir (db, -wal, -shm, lock; scanned once while a process holds the
# store open and once after), the audit log and its segments, the backup
# archive and the processes' stderr for the secrets raw, hex and base64.
# The scanner is first shown to find the needles in a file that has them.
. "$(dirname "$0")/lib.sh"
need /usr/bin/python3
SCAN="/usr/bin/python3 $(dirname "$0")/scan_secrets.py"
[ -x "$ADMIN" ] || { fail "craton-hsm-admin not built at '$ADMIN' (needed for the backup archive)"; finish; }
mkstore "$W/a" NOSECR01 audit
use "$W/a"
PINS="so-pin-1234,user-pin-5678,wrong-pin-0000,user-pin-NEW9"
run "init" "$ST" "$MODULE" init
run "import known AES/EC/RSA" "$ST" "$MODULE" import-known "$W/secrets"
cp "$W/last.err" "$W/p1.err"
[ "$(wc -l < "$W/secrets")" -ge 5 ] && ok "known secrets: $(cut -d' ' -f1 "$W/secrets" | tr '\n' ' ')" || fail "secrets file"
run "login/logout and use" "$ST" "$MODULE" check-known;              cp "$W/last.err" "$W/p2.err"
run "wrong PIN" "$ST" "$MODULE" login-expect user wrong-pin-0000 CKR_PIN_INCORRECT; cp "$W/last.err" "$W/p3.err"
run "change user PIN" "$ST" "$MODULE" setpin user user-pin-5678 user-pin-NEW9;     cp "$W/last.err" "$W/p4.err"
ST_USER_PIN=user-pin-NEW9 run "use with new PIN" "$ST" "$MODULE" check-known;     cp "$W/last.err" "$W/p5.err"
printf '%s\n' so-pin-1234 > "$W/so.pin"; chmod 600 "$W/so.pin"
if "$ADMIN" --config "$CRATON_HSM_CONFIG" backup --pin-file "$W/so.pin" --output "$W/backup.chsm" >"$W/adm.out" 2>"$W/adm.err"; then
  ok "backup archive written ($(stat -c %s "$W/backup.chsm") bytes)"
else fail "craton-hsm-admin backup: $(cat "$W/adm.err")"; fi
"$ADMIN" --config "$CRATON_HSM_CONFIG" audit rotate >>"$W/adm.out" 2>>"$W/adm.err" && ok "audit rotated" || fail "audit rotate: $(tail -1 "$W/adm.err")"
ls "$W/a/audit"/* >/dev/null 2>&1 && ok "audit files: $(ls "$W/a/audit" | tr '\n' ' ')" || fail "no audit files"

# scanner sanity: it must find the needles where they are
cp "$W/secrets" "$W/control.bin"; printf 'x%sy' user-pin-5678 >> "$W/control.bin"
out=$($SCAN "$W/secrets" "$PINS" "$W/control.bin"); hits=$(grep -c '^HIT' <<<"$out")
[ "$hits" -ge 6 ] && ok "scanner finds planted needles ($hits hits in the control file)" || fail "scanner sanity: $out"

ST_USER_PIN=user-pin-NEW9 "$ST" "$MODULE" hold "$W/ready" "$W/go" >"$W/hold.out" 2>"$W/hold.err" &
HP=$!
for _ in $(seq 1 500); do [ -e "$W/ready" ] && break; sleep 0.02; done
ls "$W/a/store/craton_hsm.db-wal" "$W/a/store/craton_hsm.db-shm" >/dev/null 2>&1 \
  && ok "while open: $(ls "$W/a/store" | tr '\n' ' ')" || fail "-wal/-shm missing while open: $(ls "$W/a/store")"
if out=$($SCAN "$W/secrets" "$PINS" "$W/a/store" "$W/a/audit" "$W/backup.chsm"); then ok "while open: $(tail -1 <<<"$out")"
else fail "secrets found while open:"; echo "$out" >&2; fi
touch "$W/go"; wait $HP || fail "hold process failed"
if out=$($SCAN "$W/secrets" "$PINS" "$W/a/store" "$W/a/audit" "$W/backup.chsm" "$W"/p?.err "$W/hold.err" "$W/adm.out" "$W/adm.err"); then
  ok "after close (store, audit + segments, backup, process stderr): $(tail -1 <<<"$out")"
else fail "secrets found:"; echo "$out" >&2; fi
finish
