#!/usr/bin/env bash
# Prints how many workers are running: the pid files in $RUN_DIR whose process is alive
# (a file left by a worker killed with SIGKILL is removed).
dir=${RUN_DIR:?RUN_DIR is not set}
n=0
for f in "$dir"/*; do
  [ -e "$f" ] || continue
  if kill -0 "${f##*/}" 2>/dev/null; then n=$((n + 1)); else rm -f "$f"; fi
done
echo "$n"
