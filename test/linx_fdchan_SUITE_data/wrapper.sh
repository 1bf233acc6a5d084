#!/bin/sh
# Started as the port program: let an intruder connect to the fd channel
# first, then become the real program (same pid, so its credentials match).
dir=$(dirname "$0")
echo "$(python3 "$dir/intruder.py" "$2")" > "$LINX_INTRUDER_LOG"
exec "$LINX_REAL_PORT" "$@"
