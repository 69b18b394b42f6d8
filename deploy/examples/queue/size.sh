#!/usr/bin/env bash
# Prints the queue size: the item files waiting in $QUEUE_DIR (items being worked on are
# not counted).
shopt -s nullglob
items=("${QUEUE_DIR:?QUEUE_DIR is not set}"/*.item)
echo "${#items[@]}"
