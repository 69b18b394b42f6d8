#!/usr/bin/env bash
# A long-running worker: it runs until killed, keeping the file $RUN_DIR/<its pid>, which
# running.sh counts.
set -u
dir=${RUN_DIR:?RUN_DIR is not set}
# The pid file first, with no process started before it (mkdir only the first time).
echo "$$" 2>/dev/null >"$dir/$$" || { mkdir -p "$dir" && echo "$$" >"$dir/$$"; }
trap 'kill ${!:-} 2>/dev/null; exit 143' TERM INT
trap 'rm -f "$dir/$$"' EXIT
# Stands for working on the queue. The sleep runs in the background so that a kill is
# handled at once (bash runs a trap only after the foreground command it waits for).
while :; do
  sleep 1 &
  wait $!
done
