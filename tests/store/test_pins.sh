#!/usr/bin/env bash
# Issue 3, PINs and the key hierarchy, each step its own process: a user-PIN
# reset by the SO keeps every object usable; changing the user PIN and the
# SO PIN keeps every object usable; a wrong or old PIN never unwraps anything
# (login fails and no private object is visible); wrong PINs in separate
# processes lock the user PIN at max_failed_logins (3), the SO's reset
# unlocks it, and every object is still usable.
. "$(dirname "$0")/lib.sh"
mkstore "$W/a" PINS0001
use "$W/a"
run "init" "$ST" "$MODULE" init
run "create p-0..p-9" "$ST" "$MODULE" create p 0 10
run "import known keys" "$ST" "$MODULE" import-known "$W/secrets"
all() { # all PIN STEP: every object usable with user PIN
  ST_USER_PIN=$1 run "$2: p-0..p-9 usable" "$ST" "$MODULE" verify p 0 10
  ST_USER_PIN=$1 run "$2: known AES/EC/RSA usable" "$ST" "$MODULE" check-known
}
run "SO resets user PIN (C_InitPIN)" "$ST" "$MODULE" initpin user-pin-RESET1
all user-pin-RESET1 "after SO reset"
run "old user PIN refused, nothing visible" "$ST" "$MODULE" login-expect user user-pin-5678 CKR_PIN_INCORRECT
ST_USER_PIN=user-pin-RESET1 run "user changes PIN (C_SetPIN)" "$ST" "$MODULE" setpin user user-pin-RESET1 user-pin-CHG2
all user-pin-CHG2 "after user C_SetPIN"
run "previous user PIN refused" "$ST" "$MODULE" login-expect user user-pin-RESET1 CKR_PIN_INCORRECT
run "SO changes SO PIN (C_SetPIN)" "$ST" "$MODULE" setpin so so-pin-1234 so-pin-NEW3
all user-pin-CHG2 "after SO C_SetPIN"
run "old SO PIN refused" "$ST" "$MODULE" login-expect so so-pin-1234 CKR_PIN_INCORRECT
run "new SO PIN works" "$ST" "$MODULE" login-expect so so-pin-NEW3 CKR_OK
export ST_SO_PIN=so-pin-NEW3
for i in 1 2 3; do run "wrong user PIN $i (own process)" "$ST" "$MODULE" login-expect user wrong-$i CKR_PIN_INCORRECT; done
run "right PIN after 3 failures: locked" "$ST" "$MODULE" login-expect user user-pin-CHG2 CKR_PIN_LOCKED
run "token info" "$ST" "$MODULE" info
grep -q 'user_pin_locked=1' "$W/last.out" && ok "CKF_USER_PIN_LOCKED set: $(head -1 "$W/last.out")" || fail "not locked: $(head -1 "$W/last.out")"
run "SO resets the locked user PIN" "$ST" "$MODULE" initpin user-pin-R4
run "token info" "$ST" "$MODULE" info
grep -q 'user_pin_locked=0' "$W/last.out" && ok "unlocked: $(head -1 "$W/last.out")" || fail "still locked: $(head -1 "$W/last.out")"
all user-pin-R4 "after reset of a locked PIN"
integrity "after PIN changes"
finish
