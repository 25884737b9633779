#!/usr/bin/env bash
# Start-up smoke test: start the built server (dist/src/main.js) with a throwaway data dir on a
# free port, wait for /healthz, check the OAuth metadata, stop it.
#
#   npm run build && bash .ci/smoke-start.sh [NODE_BINARY]     (default: node on PATH)
#
# Environment: SMOKE_TIMEOUT (seconds to wait for /healthz, default 60). Any other variables
# (DATABASE_URL, REDIS_URL, ALTER_*) are passed through to the server unchanged.
set -euo pipefail

NODE_BIN=${1:-node}
TIMEOUT=${SMOKE_TIMEOUT:-60}
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v "$NODE_BIN" >/dev/null 2>&1; then
  echo "smoke: node binary '$NODE_BIN' not found" >&2
  exit 1
fi
if [ ! -f dist/src/main.js ]; then
  echo "smoke: dist/src/main.js does not exist; run 'npm run build' first" >&2
  exit 1
fi
echo "smoke: using $NODE_BIN $("$NODE_BIN" --version)"

# HTTP helper on the same node (no curl needed): prints the body, exits 1 unless status 200.
http_get() {
  "$NODE_BIN" -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(5000) })
      .then(async (r) => { process.stdout.write(await r.text()); process.exit(r.status === 200 ? 0 : 1); })
      .catch(() => process.exit(1));
  ' "$1"
}

PORT=$("$NODE_BIN" -e '
  const s = require("node:net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });
')
DATA_DIR=$(mktemp -d)
LOG=$(mktemp)
SERVER_PID=

# stop_server: SIGTERM, then SIGKILL if it is still running after 10 s; always reaps it.
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  local _i
  for _i in $(seq 1 20); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "smoke: server ignored SIGTERM for 10s; sending SIGKILL" >&2
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

cleanup() {
  stop_server
  rm -rf "$DATA_DIR" "$LOG"
}
trap cleanup EXIT

fail() {
  echo "smoke: FAILED: $*" >&2
  echo "----- server log ($LOG) -----" >&2
  cat "$LOG" >&2 || true
  echo "----- end of server log -----" >&2
  exit 1
}

BASE="http://127.0.0.1:$PORT"
echo "smoke: starting dist/src/main.js on port $PORT, ALTER_DATA_DIR=$DATA_DIR"
PORT=$PORT ALTER_DATA_DIR=$DATA_DIR "$NODE_BIN" dist/src/main.js </dev/null >"$LOG" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + TIMEOUT))
until http_get "$BASE/healthz" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    fail "server exited (status $rc) before /healthz answered 200"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail "/healthz did not answer 200 within ${TIMEOUT}s"
  fi
  sleep 0.5
done
echo "smoke: /healthz answered 200"

metadata=$(http_get "$BASE/.well-known/oauth-authorization-server") \
  || fail "/.well-known/oauth-authorization-server did not answer 200"
case "$metadata" in
  *'"token_endpoint"'*) echo "smoke: metadata has token_endpoint" ;;
  *) fail "metadata has no token_endpoint: $metadata" ;;
esac

echo "smoke: stopping the server"
stop_server
echo "smoke: OK"
