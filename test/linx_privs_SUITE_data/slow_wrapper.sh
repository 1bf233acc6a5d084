#!/bin/sh
# An `exec' wrapper that is slow to start the port program (as `sudo'
# asking a slow PAM stack may be): it waits a second, then runs the
# program as its child.
sleep 1
"$@"
exit $?
