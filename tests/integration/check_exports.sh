#!/usr/bin/env bash
# libcraton_hsm.so must export only PKCS#11 entry points (issue 2):
# every defined dynamic symbol starts with C_, the three discovery functions
# are present, and the library has no undefined symbol of its own making
# beyond libc/libcrypto/libsqlite (it was linked with -z defs).
set -euo pipefail
lib=${1:?usage: check_exports.sh path/to/libcraton_hsm.so}
[ -f "$lib" ] || { echo "FAIL: $lib not found"; exit 1; }
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
bad=$(grep -v '^C_' <<<"$syms" || true)
fail=0
if [ -n "$bad" ]; then
  echo "FAIL: non-PKCS#11 symbols exported:"; echo "$bad"; fail=1
fi
for s in C_GetFunctionList C_GetInterfaceList C_GetInterface C_Initialize C_Finalize C_MessageVerifyFinal; do
  grep -qx "$s" <<<"$syms" || { echo "FAIL: $s not exported"; fail=1; }
done
n=$(wc -l <<<"$syms")
# 68 v2.40 functions + 20 message functions + LoginUser, SessionCancel, GetInterfaceList, GetInterface
[ "$n" -eq 92 ] || { echo "FAIL: expected 92 C_ symbols, found $n"; fail=1; }
# Full RELRO and BIND_NOW, as linked.
readelf -d "$lib" | grep -q 'BIND_NOW\|FLAGS.*NOW' || { echo "FAIL: not linked with -z now"; fail=1; }
readelf -d "$lib" | grep -q 'SYMBOLIC' || { echo "FAIL: not linked with -Bsymbolic"; fail=1; }
readelf -lW "$lib" | grep -q GNU_RELRO || { echo "FAIL: no RELRO segment"; fail=1; }
[ $fail -eq 0 ] && echo "exports ok: $n C_* symbols, nothing else"
exit $fail
