# Reads JSON on stdin (as `ip -j`, `nft -j` or `tc -j` print it) and prints
# it as one Erlang term followed by a dot: objects become maps with binary
# keys or, with the argument `pairs`, lists of {Key, Value} (tc repeats
# keys, e.g. a u32 filter's "match"); strings binaries, true/false atoms,
# null the atom null.
import json
import sys


class Pairs(list):
    """An object's members, in order, keys repeated as they come."""


def term(v):
    if isinstance(v, dict):
        return "#{" + ",".join(term(k) + "=>" + term(x) for k, x in v.items()) + "}"
    if isinstance(v, Pairs):
        return "[" + ",".join("{%s,%s}" % (term(k), term(x)) for k, x in v) + "]"
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


hook = Pairs if sys.argv[1:] == ["pairs"] else None
print(term(json.load(sys.stdin, object_pairs_hook=hook)) + ".")
