#!/usr/bin/env bash
# A long-running worker: it runs until killed, keeping the file $RUN_DIR/<its pid>, which
# running.sh counts.
set -u
dir=${RUN_DIR:?RUN_DIR is not set}
mkdir -p "$dir"
echo "$$" >"$dir/$$"
trap 'exit 143' TERM INT
trap 'rm -f "$dir/$$"' EXIT
while :; do sleep 1; done # stands for working on the queue
