#!/usr/bin/env bash
# Prints how many web servers answer: each live server's URL (from $SERVERS_DIR/<pid>) gets
# one GET, and a server counts if it answers "ok" within PROBE_TIMEOUT seconds (default 0.5).
# Files of servers that are gone are removed. The GETs go through bash's /dev/tcp, so the
# probe starts no process per server (a curl per server, or even one curl for all of them,
# took seconds to start on a loaded 2-core machine and the reading timed out).
dir=${SERVERS_DIR:?SERVERS_DIR is not set}
wait=${PROBE_TIMEOUT:-0.5}
n=0
for f in "$dir"/*; do
  [ -e "$f" ] || continue
  if ! kill -0 "${f##*/}" 2>/dev/null; then rm -f "$f"; continue; fi
  IFS= read -r url <"$f" || continue
  hostport=${url#http://}
  hostport=${hostport%%/*}
  exec {fd}<>"/dev/tcp/${hostport%:*}/${hostport##*:}" 2>/dev/null || continue
  if printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$hostport" >&"$fd" 2>/dev/null; then
    while IFS= read -r -t "$wait" line <&"$fd"; do
      if [ "${line%$'\r'}" = ok ]; then n=$((n + 1)); break; fi
    done
  fi
  exec {fd}>&-
done
echo "$n"
