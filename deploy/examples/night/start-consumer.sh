#!/usr/bin/env bash
# A consumer that works CONSUMER_SECONDS (default 4) and exits. While it runs, it keeps the
# file $RUN_DIR/<its pid>, which running.sh counts.
set -u
dir=${RUN_DIR:?RUN_DIR is not set}
# The pid file first, with no process started before it (mkdir only the first time).
echo "$$" 2>/dev/null >"$dir/$$" || { mkdir -p "$dir" && echo "$$" >"$dir/$$"; }
trap 'exit 143' TERM INT
trap 'rm -f "$dir/$$"' EXIT
sleep "${CONSUMER_SECONDS:-4}" # stands for consuming a batch of work
