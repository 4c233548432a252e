#!/bin/sh
# The bundled example: validate an NDJSON event log as a Node IPC peer
# would. Good lines go to stdout unchanged; each bad line is reported on
# stderr as FILE:LINE:COLUMN: and skipped.
cd "$(dirname "$0")/.." || exit 1
set -x
./ipcrun check --node examples/events.ndjson
echo "exit status: $?" >&2
