#!/usr/bin/env bash
# Portability proof (issue 6, "Portability"; tests/portability/README.md):
# an archive made on little-endian x86-64 restores on big-endian s390x, and
# back. Runs tests/portability/test_portability natively and cross-built for
# s390x under qemu-user (Debian 12: gcc-s390x-linux-gnu, qemu-user, s390x
# libraries in a private sysroot — see scripts/install-deps.sh --bigendian).
#
#   1. install the toolchain, qemu and the s390x libraries
#   2. native build (build-portab): test_portability + craton-hsm-admin
#   3. native run: restores the x86-64 fixtures, writes archive-little-endian
#   4. cross build (build-s390x, cmake/toolchain-s390x.cmake): test_portability only
#   5. s390x run under qemu via ctest: asserts the host is big-endian,
#      restores the x86-64 fixtures and archive-little-endian, writes
#      archive-big-endian
#   6. the module unit suites (CHSM_BIGENDIAN_SUITES) on s390x under qemu
#   7. native run restoring archive-big-endian (the round trip)
#   8. the product CLI on x86-64: backup verify + restore + token info of
#      archive-big-endian
# Exits non-zero on any failure or missing tool. Usage: scripts/test-bigendian.sh
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NATIVE=$ROOT/build-portab
CROSS=$ROOT/build-s390x
JOBS=${CHSM_JOBS:-2}
LE_OUT=$NATIVE/portab-out/archive-little-endian.chsmbk
BE_OUT=$CROSS/portab-out/archive-big-endian.chsmbk
LOGS=$NATIVE/portab-out/logs
# Module suites also run under qemu (fast ones by default; test_crypto takes
# ~3 min emulated: CHSM_BIGENDIAN_SUITES="... test_crypto" adds it).
SUITES=${CHSM_BIGENDIAN_SUITES:-test_common test_config test_store test_audit test_admin}
T0=$(date +%s)
declare -a SUMMARY=()

step() { echo "== [$(( $(date +%s) - T0 ))s] $*"; }
pass() { SUMMARY+=("PASS  $*"); echo "   ok: $*"; }
die() {
  SUMMARY+=("FAIL  $*")
  echo "test-bigendian: FAIL: $*" >&2
  summary
  exit 1
}
summary() {
  echo
  echo "==== portability summary ($(( $(date +%s) - T0 ))s) ===="
  printf '%s\n' "${SUMMARY[@]}"
}
need() { command -v "$1" >/dev/null 2>&1 || die "missing tool $1 ($2)"; }

# Run test_portability through ctest in build dir $1 (log $2), extra env after.
run_test() {
  local dir=$1 log=$2
  shift 2
  (cd "$dir" && env "$@" ctest -R '^test_portability$' -V --timeout 300) >"$log" 2>&1
  local rc=$?
  grep -E '^[0-9]+: (host byte order|wrote|restoring|\[  (PASSED|FAILED)|\[  ERROR)' "$log" | sed 's/^[0-9]*: /   /'
  [ $rc -eq 0 ] && grep -q 'PASSED' "$log"
}

step "install: scripts/install-deps.sh --bigendian"
"$ROOT/scripts/install-deps.sh" --bigendian || die "scripts/install-deps.sh --bigendian failed"
need cmake "Debian package cmake"
need ctest "Debian package cmake"
need s390x-linux-gnu-gcc "Debian package gcc-s390x-linux-gnu"
need qemu-s390x "Debian package qemu-user"
need file "Debian package file"
SYSROOT=${CHSM_S390X_SYSROOT:-/opt/craton-hsm/s390x-sysroot}
[ -f "$SYSROOT/usr/lib/s390x-linux-gnu/pkgconfig/openssl.pc" ] || die "s390x sysroot $SYSROOT incomplete"
pass "toolchain: $(s390x-linux-gnu-gcc --version | head -1); $(qemu-s390x --version | head -1)"

step "native build ($NATIVE)"
mkdir -p "$LOGS"
cmake -S "$ROOT" -B "$NATIVE" -DCHSM_BUILD_DAEMON=OFF >"$LOGS/native-configure.log" 2>&1 ||
  die "native configure (log $LOGS/native-configure.log)"
cmake --build "$NATIVE" --target test_portability craton-hsm-admin -j"$JOBS" >"$LOGS/native-build.log" 2>&1 ||
  die "native build (log $LOGS/native-build.log)"
rm -f "$LE_OUT" "$BE_OUT"
pass "native build"

step "native run (x86-64): restore the x86-64 fixtures, write archive-little-endian"
run_test "$NATIVE" "$LOGS/native-1.log" CHSM_PORTAB_OUT="$LE_OUT" || die "native test_portability (log $LOGS/native-1.log)"
[ -s "$LE_OUT" ] || die "native run wrote no archive"
pass "native: fixtures restored, archive-little-endian written"

step "cross build for s390x ($CROSS)"
cmake -S "$ROOT" -B "$CROSS" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-s390x.cmake" -DCHSM_BUILD_DAEMON=OFF \
  >"$LOGS/cross-configure.log" 2>&1 || die "cross configure (log $LOGS/cross-configure.log)"
cmake --build "$CROSS" --target test_portability $(printf '%s ' $SUITES) -j"$JOBS" >"$LOGS/cross-build.log" 2>&1 ||
  die "cross build (log $LOGS/cross-build.log)"
file -b "$CROSS/tests/portability/test_portability" | grep -q 'MSB.*S/390' ||
  die "test_portability is not a big-endian s390x binary: $(file -b "$CROSS/tests/portability/test_portability")"
pass "cross build: $(file -b "$CROSS/tests/portability/test_portability" | cut -d, -f1-2)"

step "s390x run under qemu-user: x86-64 fixtures + archive-little-endian, write archive-big-endian"
mkdir -p "$(dirname "$BE_OUT")"
run_test "$CROSS" "$LOGS/s390x.log" CHSM_PORTAB_OUT="$BE_OUT" CHSM_PORTAB_PEER="$LE_OUT" ||
  die "s390x test_portability (log $LOGS/s390x.log)"
grep -q 'Test command: .*qemu-s390x' "$LOGS/s390x.log" || die "the s390x test did not run through qemu-s390x"
grep -q 'host byte order: big-endian' "$LOGS/s390x.log" || die "the s390x run did not report a big-endian host"
[ -s "$BE_OUT" ] || die "s390x run wrote no archive"
pass "s390x (big-endian, qemu): x86-64 store + archives restored and decrypted; archive-big-endian written"

step "module unit suites on s390x under qemu-user: $SUITES"
# Tests that must re-execute themselves or read /proc/self of the native
# process (test_admin's PIN probe) say so and step aside under emulation.
export CHSM_EMULATED=qemu-user
for t in $SUITES; do
  (cd "$CROSS" && ctest -R "^$t\$" -V --timeout 900) 2>&1 | sed -E 's/^[0-9]+: //' >"$LOGS/s390x-$t.log"
  rc=${PIPESTATUS[0]}
  grep -q 'Test command: .*qemu-s390x' "$LOGS/s390x-$t.log" || die "$t did not run through qemu-s390x"
  failed=$(grep -E '^\[  FAILED  \] [a-z_0-9]+$' "$LOGS/s390x-$t.log" | awk '{print $4}' | sort -u | tr '\n' ' ')
  passed=$(grep -E '^\[  PASSED  \]' "$LOGS/s390x-$t.log" | awk '{s+=$4} END{print s+0}')
  if [ $rc -eq 0 ]; then
    pass "s390x $t: $passed cmocka tests passed"
  else
    die "s390x $t failed: ${failed:-see log} (log $LOGS/s390x-$t.log)"
  fi
done

step "native run: restore archive-big-endian (round trip)"
run_test "$NATIVE" "$LOGS/native-2.log" CHSM_PORTAB_PEER="$BE_OUT" || die "native restore of the s390x archive (log $LOGS/native-2.log)"
pass "x86-64: archive written on s390x restored and decrypted"

step "craton-hsm-admin (x86-64) on archive-big-endian: backup verify, restore, token info"
W=$(mktemp -d /tmp/chsm-bigendian-XXXXXX)
trap 'rm -rf "$W"' EXIT
ADMIN=$NATIVE/tools/admin/craton-hsm-admin
printf 'fixture-so-1234' >"$W/so.pin"
cat >"$W/cfg.toml" <<EOF
[token]
label = "craton fixture v1"
serial_number = "FIXTURE-V1-0001"
storage_path = "$W/store"
[audit]
enabled = false
EOF
chmod 600 "$W/so.pin" "$W/cfg.toml"
"$ADMIN" backup verify --config "$W/cfg.toml" --pin-file "$W/so.pin" --input "$BE_OUT" >"$W/verify.txt" 2>&1 ||
  die "craton-hsm-admin backup verify of the s390x archive: $(tail -1 "$W/verify.txt")"
grep -q 'integrity: ok (4 objects authenticated)' "$W/verify.txt" || die "backup verify: $(cat "$W/verify.txt")"
grep -q 'portab-big-endian' "$W/verify.txt" || die "backup verify does not list the s390x object"
"$ADMIN" restore --config "$W/cfg.toml" --pin-file "$W/so.pin" --input "$BE_OUT" --quiet >"$W/restore.txt" 2>&1 ||
  die "craton-hsm-admin restore of the s390x archive: $(tail -1 "$W/restore.txt")"
"$ADMIN" token info --config "$W/cfg.toml" --json >"$W/info.json" 2>&1 || die "token info after restore"
grep -q '"object_count":4' "$W/info.json" || die "token info after restore: $(cat "$W/info.json")"
pass "craton-hsm-admin: s390x archive verified (4 objects) and restored on x86-64"

summary
echo "portability: an archive made on little-endian x86-64 restores on big-endian s390x (qemu-user) and back"
