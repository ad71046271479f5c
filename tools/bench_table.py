#!/usr/bin/env python
"""Turn the JSON of ``animegan-edu bench --json`` into the README's markdown tables.

    animegan-edu bench --size 256 --size 512 --size 1024 --repeat 5 --json > bench.json
    python tools/bench_table.py bench.json            # or: ... --json | python tools/bench_table.py

Prints: a table of median seconds per image (one row per size), the INT8 quality and
size, the issue's targets checked at 512 px (when measured), and one line saying where,
when and how the figures were taken. Nothing is invented: every number comes from the file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from animegan_edu.bench.report import bench_report


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print("usage: bench_table.py [BENCH.json]  (reads stdin without a file)", file=sys.stderr)
        return 2
    try:
        text = Path(argv[0]).read_text() if argv else sys.stdin.read()
        res = json.loads(text)
    except (OSError, json.JSONDecodeError) as e:
        print(
            f"bench_table.py: error: cannot read the bench JSON ({e}); "
            "run `animegan-edu bench --json > bench.json`",
            file=sys.stderr,
        )
        return 2
    print(bench_report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
