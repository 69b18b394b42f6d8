#!/usr/bin/env bash
# Prints the CPU in use, in burners: the pid files in $BURN_DIR whose process is alive (a
# file left by a burner killed with SIGKILL is removed).
dir=${BURN_DIR:?BURN_DIR is not set}
n=0
for f in "$dir"/*; do
  [ -e "$f" ] || continue
  if kill -0 "${f##*/}" 2>/dev/null; then n=$((n + 1)); else rm -f "$f"; fi
done
echo "$n"
