#!/usr/bin/env bash
# A queue consumer that runs, completes and exits: it takes up to BATCH items (default 5)
# from $QUEUE_DIR, works WORK_SECONDS (default 0.2) on each, and exits when it has done BATCH
# items or the queue is empty. Taking an item is a rename into a private directory, so two
# consumers never take the same item; on a kill, what it holds goes back to the queue.
set -u
queue=${QUEUE_DIR:?QUEUE_DIR is not set}
batch=${BATCH:-5}
work=${WORK_SECONDS:-0.2}
mine=$queue/.taken/$$
mkdir -p "$mine"
trap 'exit 143' TERM INT
trap 'mv "$mine"/*.item "$queue"/ 2>/dev/null; rmdir "$mine" 2>/dev/null' EXIT
done=0
while [ "$done" -lt "$batch" ]; do
  item=
  for f in "$queue"/*.item; do
    [ -e "$f" ] || break
    if mv "$f" "$mine/" 2>/dev/null; then item=$mine/${f##*/}; break; fi
  done
  [ -n "$item" ] || break # the queue is empty: this consumer is done
  sleep "$work"           # "process" the item
  rm -f "$item"
  done=$((done + 1))
done
echo "consumed $done items"
