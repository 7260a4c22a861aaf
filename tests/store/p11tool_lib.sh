# pkcs11-tool helpers for the store drivers (sourced after lib.sh).
need pkcs11-tool openssl
P=(pkcs11-tool --module "$MODULE" --slot 0)
# expect NAME REGEX cmd...: output (stdout+stderr) must match REGEX
expect() {
  local name=$1 re=$2; shift 2
  local out; out=$("$@" 2>&1)
  if grep -Eq -- "$re" <<<"$out"; then ok "$name: $(grep -Em1 -- "$re" <<<"$out")"
  else fail "$name: /$re/ not in output of: $*"; sed 's/^/    | /' <<<"$out" | tail -8 >&2; fi
}
