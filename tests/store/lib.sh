# Shared shell helpers for the store acceptance drivers (sourced).
# Usage of every driver: test_X.sh MODULE ST_TOOL [ADMIN]
set -uo pipefail
MODULE=${1:?usage: $0 MODULE ST_TOOL [ADMIN]}
ST=${2:?usage: $0 MODULE ST_TOOL [ADMIN]}
ADMIN=${3:-}
PASSED=0
FAILED=0
export ST_SO_PIN=so-pin-1234 ST_USER_PIN=user-pin-5678
export CRATON_HSM_LOG=${CRATON_HSM_LOG:-warn}
ok()   { PASSED=$((PASSED + 1)); echo "ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }
finish() {
  echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
  exit $?
}
need() { for t in "$@"; do command -v "$t" >/dev/null || { fail "required tool $t not installed"; finish; }; done; }
need sqlite3
[ -f "$MODULE" ] || { fail "module $MODULE not built"; finish; }
[ -x "$ST" ] || { fail "st_tool $ST not built"; finish; }

W=$(mktemp -d /tmp/chsm-storeacc.XXXXXX)
chmod 700 "$W"
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT

# acceptance NAME ACCEPT_VALUE SHORT_VALUE ENVVAR: the issue's value under CHSM_ACCEPTANCE=1.
acceptance() {
  local name=$1 acc=$2 short=$3 var=$4 v
  if [ -n "${!var:-}" ]; then v=${!var}; echo "using $name=$v (from $var)" >&2
  elif [ "${CHSM_ACCEPTANCE:-0}" = 1 ]; then v=$acc; echo "using $name=$v (acceptance value, CHSM_ACCEPTANCE=1)" >&2
  else v=$short; echo "using $name=$v (short ctest default; CHSM_ACCEPTANCE=1 gives $acc)" >&2; fi
  echo "$v"
}

# mkstore DIR SERIAL [AUDIT]: a store dir 0700 and its config DIR/craton_hsm.toml.
mkstore() {
  local d=$1 serial=$2 audit=${3:-}
  mkdir -p "$d" && chmod 700 "$d"
  {
    printf '[token]\nlabel = "Store Test"\nserial_number = "%s"\nslot_count = 1\nstorage_path = "%s/store"\n\n' "$serial" "$d"
    printf '[security]\npbkdf2_iterations = 100000\nmax_failed_logins = 3\npin_min_length = 4\n\n'
    if [ -n "$audit" ]; then mkdir -p "$d/audit" && chmod 700 "$d/audit"
      printf '[audit]\nlog_path = "%s/audit/craton_hsm_audit.jsonl"\n' "$d"
    else printf '[audit]\nenabled = false\n'; fi
  } > "$d/craton_hsm.toml"
}
use() { export CRATON_HSM_CONFIG=$1/craton_hsm.toml; DB=$1/store/craton_hsm.db; }

# run NAME cmd...: must exit 0 and print "0 failed"; output kept in $W/last.out / last.err.
run() {
  local name=$1; shift
  "$@" >"$W/last.out" 2>"$W/last.err"; local rc=$?
  if [ $rc -eq 0 ] && grep -q ', 0 failed' "$W/last.out"; then ok "$name ($(tail -1 "$W/last.out"))"
  else fail "$name: exit $rc"; sed 's/^/    | /' "$W/last.out" "$W/last.err" | tail -20 >&2; fi
}
integrity() {
  local r; r=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)
  if [ "$r" = ok ]; then ok "integrity_check $1: ok"; else fail "integrity_check $1: $r"; fi
}
