#!/bin/sh
# An `exec' wrapper that runs the port program as its child (as sudo does)
# instead of replacing itself with it.
"$@"
exit $?
