#!/usr/bin/env bash
# Prints how many web servers answer: each live server's URL (from $SERVERS_DIR/<pid>) gets
# one GET with a 1 s timeout, all at once (curl --parallel); files of servers that are gone are removed.
dir=${SERVERS_DIR:?SERVERS_DIR is not set}
urls=()
for f in "$dir"/*; do
  [ -e "$f" ] || continue
  if kill -0 "${f##*/}" 2>/dev/null; then urls+=("$(cat "$f")"); else rm -f "$f"; fi
done
if [ "${#urls[@]}" -eq 0 ]; then echo 0; exit 0; fi
curl -s -m 1 --parallel --parallel-immediate "${urls[@]}" | grep -c '^ok$'
