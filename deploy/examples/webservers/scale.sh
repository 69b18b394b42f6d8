#!/usr/bin/env bash
# scale.sh up|down: changes the instances of Marathon app $APP_ID at $MARATHON_URL by one
# (GET /v2/apps/<id>, then PUT {"instances": n}). Marathon has no increment, so the
# read-modify-write is serialised with a lock file; that only covers tasks on one machine:
# on a cluster, give the tasks a shared lock or set RELAY_MAX_IN_FLIGHT=1.
# After the call the task waits out a cool-down (SCALE_COOLDOWN seconds, default 2) before it
# exits, as autoscalers do: with RELAY_MAX_IN_FLIGHT=n there are at most n calls of each kind
# per cool-down, and the task's life (start: the instance count moved; end: nothing more)
# tells the controller what one call does.
set -euo pipefail
url=${MARATHON_URL:?MARATHON_URL is not set}/v2/apps/${APP_ID:?APP_ID is not set}
case ${1:-} in
up) step=1 ;;
down) step=-1 ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
exec 9>"${SCALE_LOCK:-${TMPDIR:-/tmp}/relay-mesos-scale-$APP_ID.lock}"
flock -w 10 9
body=$(curl -s "$url")
n=$(printf '%s' "$body" | sed -n 's/.*"instances": *\([0-9][0-9]*\).*/\1/p')
n=$(( ${n:-0} + step ))
[ "$n" -ge 0 ] || n=0
curl -sf -X PUT -H 'Content-Type: application/json' -d "{\"instances\": $n}" "$url" >/dev/null
exec 9>&- # release the lock before the cool-down
echo "$APP_ID: $n instances"
sleep "${SCALE_COOLDOWN:-2}"
