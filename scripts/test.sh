#!/usr/bin/env bash
# The whole test suite, as CI runs it (README: "Run the tests").
#   1. install missing Debian packages (scripts/install-deps.sh)
#   2. layering check (#include lines follow the module dependency rules)
#   3. release build + every ctest test (unit, integration, interop, fuzz-corpus replays, e2e)
#   4. ASan+UBSan build + the unit, integration, known-answer, fuzz-replay,
#      admin end-to-end and daemon end-to-end tests again (leaks are errors)
#   5. big-endian portability: cross-build for s390x, run under qemu-user,
#      restore x86-64 archives there and s390x archives here
#      (scripts/test-bigendian.sh)
#   6. Release (-O3) build: -O3 inlining finds warnings (-Werror) that
#      RelWithDebInfo's -O2 does not, and Release is what a packager builds
# Any missing test dependency is an error: nothing is skipped quietly.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}

bash scripts/install-deps.sh
bash scripts/check-layering.sh

echo "== release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"
echo "== release tests"
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 900)

echo "== ASan+UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCHSM_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== ASan+UBSan tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd build-asan && ctest --output-on-failure -j"$JOBS" --timeout 900 -L '^(unit|integration|kat|fuzz-replay|e2e|daemon)$')
echo "== big-endian portability (s390x under qemu-user)"
bash scripts/test-bigendian.sh
echo "== Release (-O3) build, warnings are errors"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$JOBS"
echo "== all test stages passed"
