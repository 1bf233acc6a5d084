#!/usr/bin/env python3
"""An `exec' wrapper (argv: the program, then its arguments): first starts a
second copy of the program on the same fd channel, as a child of this
process, but gives it a wrong start token on its stdin. Once that copy
has connected (its first output, the ready frame, comes after the connect),
this process becomes the real program (same pid), which reads the node's
token.

The copy runs the program's own executable and descends from the port, so
only the token tells it apart. Its stdin stays open (the write end is
inherited by the real program), so it lives until the port exits."""
import os
import subprocess
import sys

real = sys.argv[1]
args = sys.argv[2:]
r, w = os.pipe()
os.set_inheritable(w, True)
intruder = subprocess.Popen([real] + args, stdin=r, stdout=subprocess.PIPE)
os.close(r)
token = b"wrong-token-wrong-token-wrong-to"
os.write(w, len(token).to_bytes(4, "big") + token)
with open(os.environ["LINX_INTRUDER_PID"], "w") as f:
    f.write("%d\n" % intruder.pid)
intruder.stdout.read(4)
os.execv(real, [real] + args)
