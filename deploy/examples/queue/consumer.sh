#!/usr/bin/env bash
# A queue consumer that runs, completes and exits: it takes up to BATCH items (default 5)
# from $QUEUE_DIR, works WORK_SECONDS (default 0.2) on each, and exits. Taking an item is a
# rename into a private directory, so two consumers never take the same item; on a kill,
# what it holds goes back to the queue. It takes its whole batch with one mv and works with
# one sleep: a few processes per consumer, not a few per item (on a loaded machine each
# process start costs tens of milliseconds, and consumers racing for the same oldest item
# cost one failed mv each).
set -u
shopt -s nullglob
queue=${QUEUE_DIR:?QUEUE_DIR is not set}
batch=${BATCH:-5}
work=${WORK_SECONDS:-0.2}
mine=$queue/.taken/$$
mkdir -p "$mine"
give_back() {
  local held=("$mine"/*.item)
  [ "${#held[@]}" -eq 0 ] || mv "${held[@]}" "$queue"/ 2>/dev/null
  rmdir "$mine" 2>/dev/null
}
trap 'kill ${!:-} 2>/dev/null; exit 143' TERM INT
trap give_back EXIT
taken=()
for attempt in 1 2 3; do
  items=("$queue"/*.item)
  [ "${#items[@]}" -gt 0 ] || break # the queue is empty: this consumer is done
  # Start at a random place among the oldest items, so that consumers started together
  # do not all race for the same ones.
  want=$((batch - ${#taken[@]}))
  span=$((${#items[@]} - want + 1))
  [ "$span" -ge 1 ] || span=1
  from=$((RANDOM % (span < 4 * batch ? span : 4 * batch)))
  mv "${items[@]:from:want}" "$mine"/ 2>/dev/null
  taken=("$mine"/*.item)
  [ "${#taken[@]}" -lt "$batch" ] || break
done
if [ "${#taken[@]}" -gt 0 ]; then
  pause=()
  for _ in "${taken[@]}"; do pause+=("$work"); done
  # "Process" the items (GNU sleep adds its arguments up); in the background, so that a
  # TERM is handled at once rather than after the sleep.
  sleep "${pause[@]}" &
  wait $!
  rm -f "${taken[@]}"
fi
echo "consumed ${#taken[@]} items"
