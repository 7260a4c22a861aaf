#!/usr/bin/env bash
# Daemon benchmark (issue 7, "Speed"): craton-hsmd over loopback mutual TLS,
# driven by the gRPC C core client dbench with 32 calls in flight, against the
# in-process PKCS#11 rate of the same operation measured in the same run by
# p11bench. Rounds interleave in-process and daemon measurements so machine
# noise hits both alike; the table uses the median of the rounds.
# Each round also measures a second daemon configured with worker_threads = 1
# (RESULT daemon_w1; on 2 cores shared with the client it spends less CPU per
# call, see bench/README.md) and Sign on a token key (RESULT daemon_tokenkey;
# the default key is a session object like p11bench's).
#   bench/daemon/run.sh [--seconds S] [--rounds N] [--inflight N] [--soak]
#                       [--soak-calls N] [--soak-seconds S] [--no-write]
# --soak adds the memory soak (Sign + GenerateRandom(32) mixed until
# --soak-calls or --soak-seconds, VmRSS sampled every 5 s).
# Writes bench/results/daemon-latest.txt unless --no-write.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${DBENCH_BUILD:-$ROOT/build-dbench}
SECONDS_PER=5
ROUNDS=3
INFLIGHT=32
SOAK=0
SOAK_CALLS=1000000
SOAK_SECONDS=120
WRITE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --inflight) INFLIGHT=$2; shift 2 ;;
    --soak) SOAK=1; shift ;;
    --soak-calls) SOAK_CALLS=$2; shift 2 ;;
    --soak-seconds) SOAK_SECONDS=$2; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    *) echo "usage: bench/daemon/run.sh [--seconds S] [--rounds N] [--inflight N] [--soak]" \
            "[--soak-calls N] [--soak-seconds S] [--no-write]" >&2; exit 2 ;;
  esac
done

# DBENCH_NO_BUILD=1 measures the binaries already in $BUILD (e.g. while a shared tree does not build).
if [ "${DBENCH_NO_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j2 --target craton-hsmd craton_hsm p11bench dbench >/dev/null
fi
HSMD=$BUILD/tools/daemon/craton-hsmd
MODULE=$BUILD/src/pkcs11/libcraton_hsm.so

umask 077
WORK=$(mktemp -d /tmp/craton-dbench.XXXXXX)
chmod 700 "$WORK"
DPID=""
D1PID=""
cleanup() {
  if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID"; fi
  if [ -n "$D1PID" ] && kill -0 "$D1PID" 2>/dev/null; then kill -KILL "$D1PID"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- throwaway PKI: CA, server (localhost / 127.0.0.1), client ----
pki() {
  local d=$WORK/pki
  mkdir -m 700 "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" \
    -subj /CN=dbench-ca -days 2 2>/dev/null
  for n in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/$n.key" -out "$d/$n.csr" \
      -subj "/CN=dbench-$n" 2>/dev/null
  done
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$d/server.ext"
  printf 'extendedKeyUsage=clientAuth\n' > "$d/client.ext"
  for n in server client; do
    openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -out "$d/$n.crt" \
      -days 2 -extfile "$d/$n.ext" 2>/dev/null
  done
  chmod 600 "$d"/*.key
}
pki

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
PORT1=$(free_port)
mkdir -m 700 "$WORK/pstore"
# daemon_toml NAME PORT [extra [daemon] lines]
daemon_toml() {
  mkdir -m 700 "$WORK/$1-store" "$WORK/$1-audit"
  cat > "$WORK/$1.toml" <<TOML
[token]
label = "dbench"
storage_path = "$WORK/$1-store"
[security]
pbkdf2_iterations = 100000
[audit]
log_path = "$WORK/$1-audit/audit.jsonl"
[daemon]
bind = "127.0.0.1:$2"
tls_cert = "$WORK/pki/server.crt"
tls_key = "$WORK/pki/server.key"
tls_client_ca = "$WORK/pki/ca.crt"
shutdown_grace_s = 10
${3:-}
TOML
}
daemon_toml daemon "$PORT"
daemon_toml daemon1 "$PORT1" "worker_threads = 1"
cat > "$WORK/inproc.toml" <<TOML
[token]
storage_path = "$WORK/pstore"
[security]
pbkdf2_iterations = 100000
[audit]
log_path = "$WORK/pstore/audit.jsonl"
TOML

OUT=$WORK/results.txt
{
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet -- tools/daemon bench/daemon 2>/dev/null || echo ' (+ local changes in tools/daemon or bench/daemon)')"
  echo "# daemon: craton-hsmd (RelWithDebInfo), mutual TLS on 127.0.0.1, default worker_threads; store pbkdf2_iterations 100000"
  echo "# daemon_w1: a second craton-hsmd, the same but worker_threads = 1"
  echo "# client: bench/daemon/dbench --lean (gRPC C core; no retries, minimal client stack), $INFLIGHT calls in flight over 4 channels, one session per call in flight; P-256 key a session object (daemon_tokenkey: a token object)"
  echo "# in-process: bench/p11bench --ops ecdsa_p256_sign --threads 1,2 on libcraton_hsm.so"
  echo "# seconds per measurement: $SECONDS_PER; rounds: $ROUNDS"
} > "$OUT"

# ---- start the daemons and wait for them to serve ----
# start_daemon NAME: sets STARTED_PID
start_daemon() {
  "$HSMD" --config "$WORK/$1.toml" > "$WORK/$1.log" 2>&1 &
  STARTED_PID=$!
  for _ in $(seq 1 600); do
    grep -q "serving on" "$WORK/$1.log" && break
    kill -0 "$STARTED_PID" 2>/dev/null || { cat "$WORK/$1.log" >&2; echo "craton-hsmd exited" >&2; exit 1; }
    sleep 0.1
  done
  grep -q "serving on" "$WORK/$1.log" || { cat "$WORK/$1.log" >&2; echo "craton-hsmd not ready" >&2; exit 1; }
}
start_daemon daemon
DPID=$STARTED_PID
start_daemon daemon1
D1PID=$STARTED_PID

DBC=("$BUILD/bench/daemon/dbench" --ca "$WORK/pki/ca.crt" --cert "$WORK/pki/client.crt"
     --key "$WORK/pki/client.key" --pin 12345678 --inflight "$INFLIGHT" --lean)
DB=("${DBC[@]}" --target "127.0.0.1:$PORT")
DB1=("${DBC[@]}" --target "127.0.0.1:$PORT1")
INIT=(--init 87654321)
# relabel IMPL: RESULT daemon -> RESULT IMPL, CPU daemon OP -> CPU daemon OP@IMPL
relabel() { sed -e "s/^RESULT daemon /RESULT $1 /" -e "s/^CPU daemon \([^ ]*\)/CPU daemon \1@$1/"; }
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r: in-process p11bench" >&2
  echo "# round $r" >> "$OUT"
  CRATON_HSM_CONFIG=$WORK/inproc.toml "$BUILD/bench/p11bench" --module "$MODULE" --impl inproc --init 87654321 \
    --pin 12345678 --slot 0 --seconds "$SECONDS_PER" --threads 1,2 --ops ecdsa_p256_sign | tee -a "$OUT" >&2
  echo "== round $r: daemon dbench" >&2
  "${DB[@]}" "${INIT[@]}" --pid "$DPID" --seconds "$SECONDS_PER" --ops ecdsa_p256_sign,random_32 | tee -a "$OUT" >&2
  echo "== round $r: daemon with worker_threads = 1" >&2
  "${DB1[@]}" "${INIT[@]}" --pid "$D1PID" --seconds "$SECONDS_PER" --ops ecdsa_p256_sign,random_32 | relabel daemon_w1 |
    tee -a "$OUT" >&2
  echo "== round $r: daemon, Sign on a token key" >&2
  "${DB[@]}" --token-key --pid "$DPID" --seconds "$SECONDS_PER" --ops ecdsa_p256_sign | relabel daemon_tokenkey |
    tee -a "$OUT" >&2
  INIT=()
done
kill -TERM "$D1PID"
set +e
wait "$D1PID"
D1RC=$?
set -e
D1PID=""
echo "# craton-hsmd (worker_threads = 1) exit status after SIGTERM: $D1RC" >> "$OUT"

if [ "$SOAK" = 1 ]; then
  echo "== soak: up to $SOAK_CALLS calls or $SOAK_SECONDS s, VmRSS of pid $DPID every 5 s" >&2
  echo "# soak: Sign + GenerateRandom(32) alternating per call, up to $SOAK_CALLS calls or $SOAK_SECONDS s" >> "$OUT"
  set +e
  "${DB[@]}" --soak --pid "$DPID" --max-calls "$SOAK_CALLS" --max-seconds "$SOAK_SECONDS" --rss-every 5 \
    --warmup 20 | sed 's/^RESULT daemon /RESULT soak /' | tee -a "$OUT" >&2
  SOAK_RC=${PIPESTATUS[0]}
  set -e
  echo "# dbench --soak exit status: $SOAK_RC" >> "$OUT"
fi

# ---- stop: SIGTERM must give exit status 0 ----
kill -TERM "$DPID"
set +e
wait "$DPID"
DRC=$?
set -e
DPID=""
echo "# craton-hsmd exit status after SIGTERM: $DRC" >> "$OUT"
cat "$WORK/daemon.log" "$WORK/daemon1.log" | grep -E "WARN|ERROR" | sed 's/^/# daemon log: /' | head -20 >> "$OUT" || true

/usr/bin/python3 bench/daemon/report.py "$OUT" | tee "$WORK/table.txt"
cat "$WORK/table.txt" >> "$OUT"
if [ "$WRITE" = 1 ]; then
  mkdir -p bench/results
  cp "$OUT" bench/results/daemon-latest.txt
  echo "wrote bench/results/daemon-latest.txt" >&2
fi
if [ "$DRC" != 0 ]; then
  echo "craton-hsmd exited with status $DRC after SIGTERM (expected 0)" >&2
  exit 1
fi
if [ "$D1RC" != 0 ]; then
  echo "craton-hsmd (worker_threads = 1) exited with status $D1RC after SIGTERM (expected 0)" >&2
  exit 1
fi
if [ "$SOAK" = 1 ] && [ "$SOAK_RC" != 0 ]; then
  echo "soak failed (see the SOAK line)" >&2
  exit 1
fi
