#!/usr/bin/env bash
# Burns one core for BURN_SECONDS (default 6) at the lowest priority (nice 19, so that it
# only takes CPU nobody else wants), then exits. While it runs, it keeps the file
# $BURN_DIR/<its pid>, which cpu-used.sh counts.
set -u
dir=${BURN_DIR:?BURN_DIR is not set}
# The pid file first, with no process started before it (mkdir only the first time): the
# burner counts from the moment the task runs, not a process start later.
echo "$$" 2>/dev/null >"$dir/$$" || { mkdir -p "$dir" && echo "$$" >"$dir/$$"; }
trap 'exit 143' TERM INT
trap 'rm -f "$dir/$$"' EXIT
renice -n 19 -p "$$" >/dev/null 2>&1
end=$((SECONDS + ${BURN_SECONDS:-6}))
while [ "$SECONDS" -lt "$end" ]; do :; done # busy: one core
