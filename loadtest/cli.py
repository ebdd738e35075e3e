"""``switchboard loadtest SCENARIO``: the load generator (issue 7 fills this in)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="switchboard loadtest")
    ap.add_argument("scenario", choices=["queue"])
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    from loadtest.queue_bench import main as queue_main
    return queue_main(args.rest)
