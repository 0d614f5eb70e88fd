"""Start SecantusDB (the MongoDB-wire test server, docs/testing.md) with two additions.

1. SecantusDB 0.7.0b3 never uses a partial index whose filter is ``{field: {$exists: true}}``:
   its implication check knows only $eq/$lt/$lte/$gt/$gte. mongod does use such an index for an
   equality on a non-null value, and every upsert of ours filters on exactly that, so without
   this each upsert is a collection scan (quadratic: 60 upserts/s at 2,000 notes). The shim adds
   that one sound rule ("field == non-null value", or "field $in non-null values", implies
   "field exists") and nothing else.
2. The server exits when its parent process dies, so a killed test run leaves no server behind.

Usage: python secantus_launcher.py [--watch-parent] <secantusd-py arguments>
"""
import os
import sys
import threading
import time

import secantus.storage as storage
from secantus.cli import main

_original_clause_implies_bounds = storage._clause_implies_bounds


def _clause_implies_bounds(qval, pbound):
    if isinstance(pbound, dict) and set(pbound) == {"$exists"} and pbound["$exists"] is True:
        is_ops = isinstance(qval, dict) and qval and all(k.startswith("$") for k in qval)
        if is_ops and "$in" in qval:
            values = qval["$in"]
            return isinstance(values, list) and len(values) > 0 and all(v is not None and not isinstance(v, dict) for v in values)
        eq = qval.get("$eq") if is_ops else qval
        return eq is not None and not isinstance(eq, dict)
    return _original_clause_implies_bounds(qval, pbound)


storage._clause_implies_bounds = _clause_implies_bounds


def _exit_with_parent():
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--watch-parent":
        args = args[1:]
        threading.Thread(target=_exit_with_parent, daemon=True).start()
    raise SystemExit(main(args))
