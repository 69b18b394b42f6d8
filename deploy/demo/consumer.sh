#!/usr/bin/env bash
# The demo's warmer task: a queue consumer that takes one item per second for a while, then exits
# (the "consumers that run, complete and exit" of the original Relay.Mesos).
set -euo pipefail
Q=${RELAY_DEMO_QUEUE:?}
for _ in $(seq "${RELAY_DEMO_CONSUMER_SECONDS:-10}"); do
  (
    flock 9
    n=$(cat "$Q" 2>/dev/null || echo 0)
    if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$Q.tmp" && mv "$Q.tmp" "$Q"; fi
  ) 9>"$Q.lock"
  sleep 1
done
