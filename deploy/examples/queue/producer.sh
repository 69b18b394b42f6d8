#!/usr/bin/env bash
# Fills $QUEUE_DIR: BURST items at once (default 30), then RATE items every second (default
# 4) until stopped (Ctrl-C). Items are empty files named by their arrival time (oldest first
# in a listing); creating an empty file is atomic, so a consumer never sees half an item.
set -u
queue=${QUEUE_DIR:?QUEUE_DIR is not set}
rate=${RATE:-4}
burst=${BURST:-30}
mkdir -p "$queue"
n=0
add() { # bash builtins only: no process per item
  n=$((n + 1))
  : >"$queue/${EPOCHREALTIME/./}.$$.$n.item"
}
for ((i = 0; i < burst; i++)); do add; done
while :; do
  sleep 1
  for ((i = 0; i < rate; i++)); do add; done
done
