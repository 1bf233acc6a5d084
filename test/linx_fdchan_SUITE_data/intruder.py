#!/usr/bin/env python3
"""Connect to a linx fd channel as a foreign process and try to inject a
descriptor tagged with request id 1. Prints what happened, one word."""
import array
import socket
import struct
import sys

name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect("\0" + name)
except OSError as e:
    print("refused" if isinstance(e, ConnectionRefusedError) else "error:%s" % e.errno)
    sys.exit(0)
with open("/etc/hostname", "rb") as f:
    fds = array.array("i", [f.fileno()])
    try:
        s.sendmsg([struct.pack(">Q", 1)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        print("sent")
    except OSError as e:
        print("send_failed:%s" % e.errno)
