#!/usr/bin/env bash
# The demo's producer: adds items to the queue file at a rate that swings between LOW and HIGH
# items per second over PERIOD seconds, so the thermostat has something to follow.
set -euo pipefail
Q=${RELAY_DEMO_QUEUE:?}
LOW=${RELAY_DEMO_LOW:-2} HIGH=${RELAY_DEMO_HIGH:-10} PERIOD=${RELAY_DEMO_PERIOD:-120}
start=$(date +%s)
while true; do
  now=$(date +%s)
  # rate = LOW + (HIGH-LOW) * (1 + sin(2*pi*t/PERIOD)) / 2, computed with awk
  rate=$(awk -v t=$((now - start)) -v l="$LOW" -v h="$HIGH" -v p="$PERIOD" \
    'BEGIN { printf "%d", l + (h - l) * (1 + sin(6.283185 * t / p)) / 2 + 0.5 }')
  (
    flock 9
    n=$(cat "$Q" 2>/dev/null || echo 0)
    echo $((n + rate)) > "$Q.tmp" && mv "$Q.tmp" "$Q"
  ) 9>"$Q.lock"
  sleep 1
done
