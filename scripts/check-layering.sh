#!/usr/bin/env bash
# Dependencies point down (docs/architecture.md):
#   pkcs11 -> core -> {crypto, store, audit, config} -> common; store may call crypto;
#   audit may use config + crypto; tools see only core (+ the admin's store/audit/config APIs).
# Only src/crypto includes OpenSSL headers; only src/store includes sqlite3.h.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
allowed() { # module -> allowed internal include prefixes
  case "$1" in
    common) echo "common" ;;
    config) echo "common config" ;;
    crypto) echo "common crypto" ;;
    store)  echo "common crypto store" ;;
    audit)  echo "common config crypto audit" ;;
    core)   echo "common config crypto store audit core" ;;
    pkcs11) echo "common config core pkcs11" ;;
  esac
}
for mod in common config crypto store audit core pkcs11; do
  [ -d "src/$mod" ] || continue
  ok=$(allowed "$mod")
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
    top=${inc%%/*}
    [ "$top" = "$inc" ] && continue          # same-directory include
    [ "$top" = "craton_hsm" ] && continue    # public headers
    if ! grep -qw "$top" <<<"$ok"; then
      echo "layering: $file includes \"$inc\" but src/$mod may only use: $ok"; fail=1
    fi
  done < <(grep -rHn '#include "' "src/$mod" --include='*.c' --include='*.h' || true)
done
# Front ends: token operations go through the core; the admin CLI also uses
# the maintenance APIs (config, store snapshot/archive, audit verify, key
# file parsing in crypto/pkey.h) that work on files rather than on a token.
# The daemon uses crypto/crypto.h for chsm_sha256 (client certificate
# fingerprints), chsm_rand_bytes (client tokens) and chsm_ct_equal only.
for tool in admin daemon; do
  [ -d "tools/$tool" ] || continue
  case "$tool" in
    admin)  ok="common config core crypto store audit" ;;
    daemon) ok="common config core crypto store audit" ;;
  esac
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
    top=${inc%%/*}
    [ "$top" = "$inc" ] && continue
    [ "$top" = "craton_hsm" ] && continue
    if ! grep -qw "$top" <<<"$ok"; then
      echo "layering: $file includes \"$inc\" but tools/$tool may only use: $ok"; fail=1
    fi
  done < <(grep -rHn '#include "' "tools/$tool" --include='*.c' --include='*.h' || true)
done
bad=$(grep -rln '#include <openssl/' src tools --include='*.c' --include='*.h' | grep -v '^src/crypto/' || true)
[ -n "$bad" ] && { echo "layering: OpenSSL headers outside src/crypto: $bad"; fail=1; }
bad=$(grep -rln '#include <sqlite3.h>' src tools --include='*.c' --include='*.h' | grep -v '^src/store/' || true)
[ -n "$bad" ] && { echo "layering: sqlite3.h outside src/store: $bad"; fail=1; }
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
