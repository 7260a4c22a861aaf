# Common harness for the third-party consumer interop tests.
# Sourced by every tests/interop/consumers/*.sh script; each script runs
# against ANY PKCS#11 module given by path (our libcraton_hsm.so, or
# SoftHSMv2 to validate the script itself).
#
# Provides:
#   require_tools T...        every tool must exist, else the test FAILS (no skips)
#   check NAME -- cmd...      run cmd; pass iff exit status 0
#   check_out NAME RE -- cmd  run cmd; pass iff status 0 and output matches RE
#   pass NAME / fail NAME WHY record one check (one line each)
#   finish                    prints "N passed, M failed"; exit 0 iff M == 0 and N > 0
#   prepare_token MODULE      fresh temp token (slot 0 for Craton), sets
#                             CHSM_TMP, TOKEN_LABEL, SO_PIN, USER_PIN, P11 (array)
#   der_pub_to_pem IN OUT     SubjectPublicKeyInfo DER -> PEM (pkcs11-tool
#                             --read-object --type pubkey writes SPKI DER)

CHSM_PASSED=0
CHSM_FAILED=0
SO_PIN=${SO_PIN:-so-pin-1234}
USER_PIN=${USER_PIN:-user-pin-5678}
TOKEN_LABEL=${TOKEN_LABEL:-interop}

pass() { CHSM_PASSED=$((CHSM_PASSED + 1)); echo "PASS: $1"; }
fail() {
  CHSM_FAILED=$((CHSM_FAILED + 1))
  echo "FAIL: $1${2:+ -- $2}"
}

# Output of the last check, indented, for diagnosing a failure.
show_log() { [ -s "$1" ] && sed -n '1,25s/^/    | /p' "$1"; return 0; }

check() {
  local name=$1; shift; [ "$1" = -- ] && shift
  local log="$CHSM_TMP/last.log"
  if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name" "exit $? from: $*"; show_log "$log"; fi
}

check_out() {
  local name=$1 re=$2; shift 2; [ "$1" = -- ] && shift
  local log="$CHSM_TMP/last.log" rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ] && grep -Eq -- "$re" "$log"; then pass "$name"
  else fail "$name" "exit $rc, /$re/ expected from: $*"; show_log "$log"; fi
}

# check_log NAME RE: the output of the previous check matched RE (for a
# second assertion on one consumer run).
check_log() {
  if grep -Eq -- "$2" "$CHSM_TMP/last.log"; then pass "$1"; else fail "$1" "/$2/ not in the previous output"; fi
}

# A preparation step whose output a later check compares (e.g. openssl
# encrypting to the exported key): a failure is logged, never fatal, so the
# script always reaches finish().
prep() { "$@" >"$CHSM_TMP/prep.log" 2>&1 || { echo "  (prep failed: $*)"; show_log "$CHSM_TMP/prep.log"; }; }

# Compare two files byte for byte.
check_same() {
  local name=$1 a=$2 b=$3
  if [ -s "$a" ] && cmp -s "$a" "$b"; then pass "$name"
  else fail "$name" "$a and $b differ or are empty"; fi
}

finish() {
  echo "$CHSM_PASSED passed, $CHSM_FAILED failed"
  if [ "$CHSM_FAILED" -eq 0 ] && [ "$CHSM_PASSED" -gt 0 ]; then exit 0; fi
  exit 1
}

# A missing consumer is a failure, never a skip: CI must not go green
# because a package was not installed.
require_tools() {
  local t missing=0
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      echo "FAIL: required tool '$t' not found"; missing=1
    fi
  done
  if [ "$missing" -ne 0 ]; then
    CHSM_FAILED=$((CHSM_FAILED + 1)); finish
  fi
}

require_file() {
  if [ ! -e "$1" ]; then echo "FAIL: required file '$1' not found${2:+ ($2)}"
    CHSM_FAILED=$((CHSM_FAILED + 1)); finish
  fi
}

is_craton() { [ "$(basename "$1")" = libcraton_hsm.so ]; }

# prepare_token MODULE: a fresh, initialised token with a user PIN, in a
# private temp dir removed on exit. Sets P11=(pkcs11-tool --module M --slot S).
prepare_token() {
  local module=$1
  require_file "$module" "module under test"
  CHSM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/chsm-consumer.XXXXXX")
  chmod 0700 "$CHSM_TMP"
  trap 'rm -rf "$CHSM_TMP"' EXIT
  if is_craton "$module"; then
    mkdir -m 0700 "$CHSM_TMP/store"
    cat >"$CHSM_TMP/craton_hsm.toml" <<TOML
[token]
label = "$TOKEN_LABEL"
serial_number = "INTEROP0001"
storage_path = "$CHSM_TMP/store"

[security]
pbkdf2_iterations = 100000

# pkcs11-tool --test-ec and --test hard-code SHA-1 signature mechanisms
# (CKM_ECDSA_SHA1, CKM_SHA1_RSA_PKCS); SHA-1 signing is off by default
# ([algorithms].allow_sha1_signing = false), so the interop token enables it.
[algorithms]
allow_sha1_signing = true

[audit]
log_path = "$CHSM_TMP/audit.jsonl"
TOML
    export CRATON_HSM_CONFIG="$CHSM_TMP/craton_hsm.toml"
    pkcs11-tool --module "$module" --slot 0 --init-token --label "$TOKEN_LABEL" \
      --so-pin "$SO_PIN" >"$CHSM_TMP/init.log" 2>&1 \
      || { echo "FAIL: init-token"; show_log "$CHSM_TMP/init.log"; CHSM_FAILED=$((CHSM_FAILED + 1)); finish; }
    pkcs11-tool --module "$module" --slot 0 --init-pin --login --so-pin "$SO_PIN" \
      --pin "$USER_PIN" >"$CHSM_TMP/init.log" 2>&1 \
      || { echo "FAIL: init-pin"; show_log "$CHSM_TMP/init.log"; CHSM_FAILED=$((CHSM_FAILED + 1)); finish; }
    TOKEN_SLOT=0
  else
    require_tools softhsm2-util
    mkdir -m 0700 "$CHSM_TMP/tokens"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
      "$CHSM_TMP/tokens" >"$CHSM_TMP/softhsm2.conf"
    export SOFTHSM2_CONF="$CHSM_TMP/softhsm2.conf"
    softhsm2-util --init-token --free --label "$TOKEN_LABEL" --so-pin "$SO_PIN" \
      --pin "$USER_PIN" >"$CHSM_TMP/init.log" 2>&1 \
      || { echo "FAIL: softhsm2-util --init-token"; show_log "$CHSM_TMP/init.log"; CHSM_FAILED=$((CHSM_FAILED + 1)); finish; }
    # SoftHSM reassigns the slot id on init; take it from softhsm2-util's message.
    TOKEN_SLOT=$(sed -n 's/.*to slot \([0-9]*\).*/\1/p' "$CHSM_TMP/init.log")
    [ -n "$TOKEN_SLOT" ] || { echo "FAIL: cannot read slot from softhsm2-util"; show_log "$CHSM_TMP/init.log"; CHSM_FAILED=$((CHSM_FAILED + 1)); finish; }
  fi
  P11=(pkcs11-tool --module "$module" --slot "$TOKEN_SLOT")
  export TOKEN_SLOT
}

der_pub_to_pem() { openssl pkey -pubin -inform DER -in "$1" -out "$2"; }

