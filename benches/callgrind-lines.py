#!/usr/bin/env python3
"""Self instructions of functions by source line, summed over callgrind's thread files.

The profiles `callgrind-receive.sh` keeps (`OUT=dir`, one file a thread) credit inlined code
to its own file and line (`fi=`/`fe=`); `callgrind_annotate` splits a function by those files
and old versions leave lines without a binary out of its totals. This reads the files
themselves: every cost line of the functions whose name matches, by the file and line it
names, the calls' inclusive lines left out.

    benches/callgrind-lines.py PATTERN ITEMS DIR                 # lines of one profile
    benches/callgrind-lines.py PATTERN ITEMS DIR OTHER_PATTERN OTHER_DIR
                                                # lines of DIR less those of OTHER_DIR

PATTERN is a regular expression searched in the function's name (`Walk<_,_>::request`,
`check_spans$`); ITEMS the items sent (the figures are per item). With a second profile,
each line's count there (of the functions OTHER_PATTERN matches) is subtracted: the same
source line in two functions (a walk and the check it extends) compared. Prints the
instructions an item, the difference first, largest first, and the total.
"""

import collections
import glob
import os
import re
import sys


def lines(pattern, directory):
    """Self instructions by (file, line) of the functions matching `pattern`."""
    want = re.compile(pattern)
    counts = collections.Counter()
    for path in sorted(glob.glob(os.path.join(directory, "cg.*"))):
        names = {"fl": {}, "fn": {}}

        def name(kind, value):
            # `(id) name` defines an id, `(id)` uses it.
            m = re.match(r"\((\d+)\)(?: (.*))?$", value)
            if not m:
                return value
            if m.group(2) is not None:
                names[kind][m.group(1)] = m.group(2)
            return names[kind].get(m.group(1), value)

        fl = fi = fn = None
        line = 0
        after_call = False
        with open(path, errors="replace") as f:
            for raw in f:
                raw = raw.rstrip("\n")
                if not raw:
                    continue
                if raw.startswith("fl="):
                    fl = fi = name("fl", raw[3:])
                elif raw.startswith(("fi=", "fe=")):
                    fi = name("fl", raw[3:])
                elif raw.startswith("fn="):
                    fn = name("fn", raw[3:])
                    fi = fl
                elif raw.startswith("cfn="):
                    name("fn", raw[4:])
                elif raw.startswith(("cfl=", "cfi=")):
                    name("fl", raw[4:])
                elif raw.startswith("calls="):
                    after_call = True
                elif raw[0].isdigit() or raw[0] in "+-*":
                    parts = raw.split()
                    pos = parts[0]
                    if pos[0] in "+-":
                        line += int(pos)
                    elif pos != "*":
                        line = int(pos)
                    if after_call:
                        # The call's inclusive cost, not the caller's own.
                        after_call = False
                        continue
                    if len(parts) > 1 and fn is not None and want.search(fn):
                        counts[(fi, line)] += int(parts[1])
    return counts


def main():
    if len(sys.argv) not in (4, 6):
        sys.exit(__doc__)
    items = float(sys.argv[2])
    a = lines(sys.argv[1], sys.argv[3])
    b = lines(sys.argv[4], sys.argv[5]) if len(sys.argv) == 6 else collections.Counter()
    rows = [(a[k] - b[k], a[k], b[k], k) for k in set(a) | set(b)]
    rows.sort(key=lambda r: -abs(r[0]))
    for d, x, y, (f, line) in rows:
        if abs(d) / items >= 0.05:
            print(f"{d / items:9.1f} {x / items:9.1f} {y / items:9.1f}  {f}:{line}")
    total = sum(r[0] for r in rows)
    print(f"{total / items:9.1f} {sum(a.values()) / items:9.1f} {sum(b.values()) / items:9.1f}  all")


if __name__ == "__main__":
    main()
