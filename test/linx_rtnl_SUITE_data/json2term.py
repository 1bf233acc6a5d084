# Reads JSON (as `ip -j` prints it) on stdin and prints it as one Erlang
# term followed by a dot: objects become maps with binary keys, strings
# binaries, true/false atoms, null the atom null.
import json
import sys


def term(v):
    if isinstance(v, dict):
        return "#{" + ",".join(term(k) + "=>" + term(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(term(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    return "<<\"" + "".join(c if 32 <= ord(c) < 127 and c not in "\"\\" else "\\x{%x}" % ord(c)
                            for c in v) + "\"/utf8>>"


print(term(json.load(sys.stdin)) + ".")
