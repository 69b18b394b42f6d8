#!/usr/bin/env bash
# Fills $QUEUE_DIR: BURST items at once (default 30), then RATE items per second (default 4)
# until stopped (Ctrl-C).
set -u
queue=${QUEUE_DIR:?QUEUE_DIR is not set}
rate=${RATE:-4}
burst=${BURST:-30}
mkdir -p "$queue"
n=0
add() { # write under a hidden name, then rename: a consumer never sees a half-made item
  n=$((n + 1))
  : >"$queue/.new.$$.$n" && mv "$queue/.new.$$.$n" "$queue/$(date +%s%N).$$.$n.item"
}
for ((i = 0; i < burst; i++)); do add; done
pause=$(awk -v r="$rate" 'BEGIN { printf "%.3f", 1 / r }')
while :; do
  sleep "$pause"
  add
done
