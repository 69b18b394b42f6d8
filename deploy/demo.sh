#!/usr/bin/env bash
# `make demo`: the main job on embedded defaults, on this machine alone. It starts
#   - a queue (a file, 150 items at start) that a producer fills at 2..10 items/s,
#   - one relay-mesos replica with the embedded Mesos master (--master local), whose metric is
#     the queue's length, whose target is RELAY_DEMO_TARGET (default 20), and whose warmer tasks
#     are consumers that take one item per second for 10 s,
# and serves the dashboard on RELAY_MESOS_LISTEN (default 127.0.0.1:8080). Ctrl-C stops it.
# RELAY_DEMO_SECONDS=N stops it after N seconds and prints a summary (CI smoke run).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${RELAY_BIN:-bin/relay-mesos}
[ -x "$BIN" ] || { echo "demo: $BIN is missing; run make build" >&2; exit 1; }
DIR=${RELAY_DEMO_DIR:-$(mktemp -d /tmp/relay-demo.XXXXXX)}
mkdir -p "$DIR"
LISTEN=${RELAY_MESOS_LISTEN:-127.0.0.1:8080}
if (exec 3<>"/dev/tcp/${LISTEN%:*}/${LISTEN##*:}") 2>/dev/null; then
  echo "demo: $LISTEN is in use; set RELAY_MESOS_LISTEN=127.0.0.1:<free port>" >&2
  exit 1
fi
export RELAY_DEMO_QUEUE=$DIR/queue
echo "${RELAY_DEMO_INITIAL:-150}" > "$RELAY_DEMO_QUEUE"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 0' INT TERM

deploy/demo/producer.sh & pids+=($!)

echo "demo: queue $RELAY_DEMO_QUEUE, state and task sandboxes in $DIR"
echo "demo: dashboard http://$LISTEN/   status http://$LISTEN/status   metrics http://$LISTEN/metrics"
"$BIN" run \
  --master local \
  --local-resources "${RELAY_MESOS_LOCAL_RESOURCES:-cpus:4;mem:4096;disk:10000}" \
  --metric "file:$RELAY_DEMO_QUEUE" \
  --target "${RELAY_DEMO_TARGET:-20}" \
  --warmer "$PWD/deploy/demo/consumer.sh" \
  --env "RELAY_DEMO_QUEUE=$RELAY_DEMO_QUEUE" \
  --task-resources "cpus:0.1;mem:16" \
  --delay "${RELAY_DELAY:-1}" \
  --max-in-flight 40 \
  --state-dir "$DIR/state" \
  --listen "$LISTEN" &
relay=$!
pids=("$relay" "${pids[@]}")

if [ -n "${RELAY_DEMO_SECONDS:-}" ]; then
  sleep "$RELAY_DEMO_SECONDS"
  echo "demo: after ${RELAY_DEMO_SECONDS}s, /status says:"
  curl -fsS "http://$LISTEN/status" | python3 -c '
import json, sys
s = json.load(sys.stdin)
l = s["ledger"]["warmer"]
print("  role=%s framework_id=%s subscribed=%s deciding=%s" % (s["role"], s["framework_id"], s["mesos"]["subscribed"], s["mesos"]["deciding"]))
print("  consumers pending=%d running=%d ungranted=%d" % (l["pending"], l["running"], l["ungranted"]))
' || true
  echo "demo: queue length now $(cat "$RELAY_DEMO_QUEUE") (target ${RELAY_DEMO_TARGET:-20})"
  exit 0
fi
wait "$relay"
