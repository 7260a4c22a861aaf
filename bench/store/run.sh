#!/usr/bin/env bash
# Store benchmark (issue 3): our module and SoftHSMv2 on the same machine.
#   bench/store/run.sh   (BUILD=build-dir, default build; CREATE_SECONDS, default 5;
#   SOFTHSM_10K=1 also fills SoftHSMv2 to 10,000 objects: off by default, it created 7 keys/s here)
# Writes bench/results/store-latest.txt: date, machine, then the harness output.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
CREATE_SECONDS=${CREATE_SECONDS:-5}
ITER=100000
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target craton_hsm storebench >/dev/null
SB=$BUILD/bench/store/storebench
MOD=$BUILD/src/pkcs11/libcraton_hsm.so
SOFT=/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
command -v softhsm2-util >/dev/null && [ -f "$SOFT" ] || { echo "softhsm2 not installed (apt-get install softhsm2)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/craton-storebench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/out.txt
{
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# craton: $(git log -1 --format=%h 2>/dev/null) $BUILD ($(grep -m1 CMAKE_BUILD_TYPE: "$BUILD/CMakeCache.txt" | cut -d= -f2)); pbkdf2_iterations $ITER; softhsm2 $(dpkg-query -W -f='${Version}' softhsm2 2>/dev/null)"
} > "$OUT"
log() { echo "== $*" | tee -a "$OUT" >&2; }
r() { "$@" | tee -a "$OUT" >&2; }

mkdir -m 700 -p "$WORK/c"
cat > "$WORK/c/craton_hsm.toml" <<TOML
[token]
storage_path = "$WORK/c/store"
slot_count = 1
[security]
pbkdf2_iterations = $ITER
[audit]
enabled = false
TOML
export CRATON_HSM_CONFIG=$WORK/c/craton_hsm.toml
C=("$SB" --module "$MOD" --impl craton --pin 12345678 --slot 0)
log "craton: populate 1,000 token AES keys (one session, C_CreateObject)"
r "${C[@]}" --init 87654321 populate --to 1000
log "craton: find at 1,000 objects (fresh process)"
r "${C[@]}" find
log "craton: init+login at 1,000 objects (fresh process)"
r "${C[@]}" login --iterations $ITER
log "craton: populate to 10,000"
r "${C[@]}" populate --to 10000
log "craton: find at 10,000 objects (fresh process)"
r "${C[@]}" find
log "craton: init+login and RSS at 10,000 objects (fresh process)"
r "${C[@]}" login --iterations $ITER
log "craton: create token AES keys for $CREATE_SECONDS s, one session (store holds 10,000)"
r "${C[@]}" create --seconds "$CREATE_SECONDS" --tag one
log "craton: two processes creating at once for $CREATE_SECONDS s"
"${C[@]}" create --seconds "$CREATE_SECONDS" --tag p1 > "$WORK/p1" &
"${C[@]}" create --seconds "$CREATE_SECONDS" --tag p2 > "$WORK/p2" &
wait
cat "$WORK/p1" "$WORK/p2" | tee -a "$OUT" >&2
n1=$(awk '/^CREATED/{print $3}' "$WORK/p1"); n2=$(awk '/^CREATED/{print $3}' "$WORK/p2")
n0=$(awk '/^CREATED one/{print $3}' "$OUT")
want=$((10000 + n0 + n1 + n2))
got=$("${C[@]}" count | awk '/RESULT craton count/{print $4}')
echo "RESULT craton two_process_loss $((want - got)) objects (expected $want = 10000 + $n0 + $n1 + $n2, counted $got)" | tee -a "$OUT" >&2

mkdir -p "$WORK/s/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK/s/tokens" > "$WORK/s/softhsm2.conf"
export SOFTHSM2_CONF=$WORK/s/softhsm2.conf
softhsm2-util --init-token --free --label bench --so-pin 87654321 --pin 12345678 >/dev/null
S=("$SB" --module "$SOFT" --impl softhsm2 --pin 12345678 --token-label bench)
log "softhsm2: populate 1,000"
r "${S[@]}" populate --to 1000
log "softhsm2: find at 1,000 objects"
r "${S[@]}" find --max-seconds 10
log "softhsm2: init+login at 1,000 objects"
r "${S[@]}" login --iterations $ITER
log "softhsm2: create token AES keys for $CREATE_SECONDS s, one session"
r "${S[@]}" create --seconds "$CREATE_SECONDS" --tag one
if [ "${SOFTHSM_10K:-0}" = 1 ]; then
  log "softhsm2: populate to 10,000 (time-limited find: at most 10 s of lookups)"
  r timeout 900 "${S[@]}" populate --to 10000 || echo "softhsm2 populate to 10,000 did not finish" | tee -a "$OUT" >&2
  r timeout 300 "${S[@]}" find --max-seconds 10 || echo "softhsm2 find at 10,000 did not finish" | tee -a "$OUT" >&2
  r timeout 300 "${S[@]}" login --iterations $ITER || true
fi
mkdir -p bench/results
cp "$OUT" bench/results/store-latest.txt
echo "saved bench/results/store-latest.txt" >&2
