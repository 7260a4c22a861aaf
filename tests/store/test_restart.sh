#!/usr/bin/env bash
# Issue 3, restart persistence: process A initialises the token, sets the
# user PIN and imports keys (AES via C_CreateObject, EC and RSA private keys
# with known values); process B, started after A exited, finds them and uses
# them (C_DigestKey compared with the known AES value; ECDSA sign verified by
# OpenSSL once the module offers CKM_ECDSA_SHA256). A third process checks
# them again after B, so reading does not disturb the store.
. "$(dirname "$0")/lib.sh"
mkstore "$W/a" RESTART1
use "$W/a"
run "A: init token + user PIN" "$ST" "$MODULE" init
run "A: create 20 token AES keys" "$ST" "$MODULE" create rk 0 20
grep -E '^[0-9a-f]{32} ' "$W/last.out" > "$W/uids"
[ "$(wc -l < "$W/uids")" = 20 ] && ok "A: 20 CKA_UNIQUE_IDs printed" || fail "A: uids: $(wc -l < "$W/uids")"
run "A: import known AES/EC/RSA keys" "$ST" "$MODULE" import-known "$W/secrets"
[ "$(stat -c %a "$W/a/store")" = 700 ] && ok "store dir mode 700" || fail "store dir mode $(stat -c %a "$W/a/store")"
[ "$(stat -c %a "$DB")" = 600 ] && ok "db mode 600" || fail "db mode $(stat -c %a "$DB")"
run "B: every AES key found by label/id, uid matches, C_DigestKey = SHA-256(known value)" "$ST" "$MODULE" verify-file "$W/uids"
run "B: known EC/RSA keys found, public attributes read, secrets stay sensitive" "$ST" "$MODULE" check-known
grep -h '^note:\|ECDSA' "$W/last.out" || true
run "C: count after restart" "$ST" "$MODULE" count
grep -q '^count 21$' "$W/last.out" && ok "C: 21 secret keys (20 + known-aes)" || fail "C: $(grep count "$W/last.out")"
integrity "after restart"
finish
