# Reads JSON (tc -j) on stdin and prints it as one Erlang term: objects
# as lists of {Key, Value} (tc repeats keys, e.g. a u32 filter's
# "match"), strings as binaries, true/false/null as atoms.
import json
import sys


def term(v):
    if isinstance(v, list) and all(isinstance(p, tuple) for p in v) and v:
        return "[" + ",".join("{%s,%s}" % (term(k), term(x)) for k, x in v) + "]"
    if isinstance(v, list):
        return "[" + ",".join(term(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    return "<<\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\">>"


def pairs(ps):
    return list(ps) if ps else []


print(term(json.load(sys.stdin, object_pairs_hook=pairs)) + ".")
