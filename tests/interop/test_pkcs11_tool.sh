#!/usr/bin/env bash
# Interop: OpenSC's pkcs11-tool against libcraton_hsm.so.
#   usage: test_pkcs11_tool.sh /path/to/libcraton_hsm.so [volatile|persistent]
# volatile (default; issue 2): ":memory:" store, so every check runs inside
#   one pkcs11-tool process: listing slots, token slots and mechanisms,
#   init-token + init-pin (+ random, hash) in one invocation.
# persistent (issue 3): storage_path in a temp dir; separate processes
#   init the token, init the PIN, log in, and count wrong PINs to lockout.
# pkcs11-tool missing is a failure, not a skip. Prints "N passed, M failed".
set -uo pipefail
MODULE=${1:?usage: test_pkcs11_tool.sh /path/to/libcraton_hsm.so [volatile|persistent]}
MODE=${2:-volatile}
PASSED=0
FAILED=0
SO_PIN=so-pin-1234
USER_PIN=user-pin-5678

ok()   { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
  exit $?
}

# expect NAME REGEX -- cmd...: run, require the output (stdout+stderr) to match REGEX
expect() {
  local name=$1 re=$2; shift 3
  local out
  out=$("$@" 2>&1)
  if grep -Eq -- "$re" <<<"$out"; then ok; else fail "$name: /$re/ not in output of: $*"; echo "$out" | sed 's/^/    | /' >&2; fi
}

# expect_ok NAME -- cmd...: exit status 0 and no error line
expect_ok() {
  local name=$1; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ $rc -eq 0 ] && ! grep -qi 'error' <<<"$out"; then ok; else fail "$name: exit $rc: $*"; echo "$out" | sed 's/^/    | /' >&2; fi
}

command -v pkcs11-tool >/dev/null || { fail "pkcs11-tool not found (apt-get install opensc)"; finish; }
[ -f "$MODULE" ] || { fail "module $MODULE not found"; finish; }

TMP=$(mktemp -d /tmp/chsm-p11tool.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
STORE=':memory:'
[ "$MODE" = persistent ] && STORE="$TMP/store"
cat >"$TMP/craton_hsm.toml" <<TOML
[token]
label = "Craton Tool"
serial_number = "P11TOOL1"
slot_count = 2
storage_path = "$STORE"

[security]
pbkdf2_iterations = 100000
max_failed_logins = 3

[audit]
enabled = false
TOML
export CRATON_HSM_CONFIG=$TMP/craton_hsm.toml
P=(pkcs11-tool --module "$MODULE")

expect "list-slots" 'Slot 0 \(0x0\)' -- "${P[@]}" --list-slots
expect "list-slots shows slot 1" 'Slot 1 \(0x1\)' -- "${P[@]}" --list-slots
expect "list-slots uninitialised token" 'uninitialized' -- "${P[@]}" --list-slots
expect "list-token-slots" 'Slot 0 \(0x0\)' -- "${P[@]}" --list-token-slots
expect "list-mechanisms SHA256" 'SHA256' -- "${P[@]}" --list-mechanisms
expect "list-mechanisms SHA-1" 'SHA-1' -- "${P[@]}" --list-mechanisms
expect "module info" 'Cryptoki version [23]\.' -- "${P[@]}" --show-info

if [ "$MODE" = volatile ]; then
  expect "init-token" 'Token successfully initialized' -- \
    "${P[@]}" --slot 0 --init-token --label ci-token --so-pin "$SO_PIN"
  expect "init-token + init-pin" 'User PIN successfully initialized' -- \
    "${P[@]}" --slot 0 --init-token --label ci-token --so-pin "$SO_PIN" --init-pin --pin "$USER_PIN"
  # pkcs11-tool 0.23 skips --generate-random in an --init-token run: separate (volatile) process
  "${P[@]}" --slot 0 --generate-random 32 -o "$TMP/rand.bin" >/dev/null 2>&1
  if [ "$(stat -c %s "$TMP/rand.bin" 2>/dev/null)" = 32 ]; then ok; else fail "random output is not 32 bytes"; fi
  printf abc >"$TMP/abc"
  "${P[@]}" --slot 0 --init-token --label ci-token --so-pin "$SO_PIN" --hash -m SHA256 \
    -i "$TMP/abc" -o "$TMP/abc.sha256" >/dev/null 2>&1
  got=$(od -An -tx1 "$TMP/abc.sha256" 2>/dev/null | tr -d ' \n')
  if [ "$got" = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ]; then ok
  else fail "SHA-256 of abc through --hash: got '$got'"; fi
else
  expect "init-token" 'Token successfully initialized' -- \
    "${P[@]}" --slot 0 --init-token --label ci-token --so-pin "$SO_PIN"
  expect "init-pin (second process)" 'User PIN successfully initialized' -- \
    "${P[@]}" --slot 0 --init-pin --so-pin "$SO_PIN" --pin "$USER_PIN"
  expect "token label persisted" 'ci-token' -- "${P[@]}" --list-token-slots
  expect_ok "login (third process)" -- "${P[@]}" --slot 0 --login --pin "$USER_PIN" --list-objects
  printf 'persisted-bytes' >"$TMP/obj.bin"
  expect_ok "write a private data object" -- "${P[@]}" --slot 0 --login --pin "$USER_PIN" \
    --write-object "$TMP/obj.bin" --type data --label ci-object --private
  expect "object found by a fourth process" 'ci-object' -- \
    "${P[@]}" --slot 0 --login --pin "$USER_PIN" --list-objects --type data
  for i in 1 2; do
    expect "wrong PIN $i" 'CKR_PIN_INCORRECT' -- "${P[@]}" --slot 0 --login --pin "wrong-$i" --list-objects
  done
  expect "wrong PIN 3" 'CKR_PIN_(INCORRECT|LOCKED)' -- "${P[@]}" --slot 0 --login --pin wrong-3 --list-objects
  expect "locked after 3" 'CKR_PIN_LOCKED' -- "${P[@]}" --slot 0 --login --pin "$USER_PIN" --list-objects
fi

finish
