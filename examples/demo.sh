#!/bin/sh
# SPDX-License-Identifier: ISC
# The bundled example: a Node program written for process.on('message')
# and process.send() (examples/double.js) becomes an NDJSON filter. Bad
# input lines are reported on stderr and never reach the child; the exit
# status is the child's, or 1 when lines were refused.
cd "$(dirname "$0")/.." || exit 1
set -x
./ipcrun run -- node examples/double.js < examples/numbers.ndjson
echo "exit status: $?" >&2
./ipcrun check --node examples/events.ndjson > /dev/null
echo "exit status: $?" >&2
