#!/usr/bin/env bash
# Issue 3 with OpenSC's pkcs11-tool, every step a separate process on a
# persistent store: --init-token, then --init-pin, then --login (list
# objects, create a data object), then wrong user PINs in three further
# processes lock the PIN at max_failed_logins = 3: the fourth process with
# the right PIN is refused, and --list-token-slots / C_GetTokenInfo show it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11tool_lib.sh"
mkstore "$W/a" P11TOOL1
use "$W/a"
expect "1 init-token" 'Token successfully initialized' "${P[@]}" --init-token --label p11tool --so-pin "$ST_SO_PIN"
expect "2 init-pin" 'User PIN successfully initialized' "${P[@]}" --login --login-type so --so-pin "$ST_SO_PIN" --init-pin --pin "$ST_USER_PIN"
printf 'hello store' > "$W/data.txt"
expect "3 login + write data object" 'Created Data Object|Data object' "${P[@]}" --login --pin "$ST_USER_PIN" --write-object "$W/data.txt" --type data --label store-data --private
expect "4 login + list objects (new process)" "label: +'store-data'" "${P[@]}" --login --pin "$ST_USER_PIN" --list-objects --type data
expect "list-token-slots: initialised, PIN set" 'PIN initialized' "${P[@]}" --list-token-slots
for i in 1 2 3; do
  expect "wrong PIN $i (own process)" 'CKR_PIN_INCORRECT' "${P[@]}" --login --pin "wrong-$i" --list-objects
done
expect "right PIN after 3 failures" 'CKR_PIN_LOCKED' "${P[@]}" --login --pin "$ST_USER_PIN" --list-objects
expect "list-token-slots shows the lock" 'user PIN locked' "${P[@]}" --list-token-slots
run "C_GetTokenInfo" "$ST" "$MODULE" info
grep -q 'user_pin_locked=1' "$W/last.out" && ok "C_GetTokenInfo: $(head -1 "$W/last.out")" || fail "C_GetTokenInfo: $(head -1 "$W/last.out")"
integrity "after pkcs11-tool"
finish
