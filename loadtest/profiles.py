"""Summaries of py-spy's collapsed stacks (``--format raw``): where the time went.

    python -m loadtest.profiles reports/profile/*.txt [--top 25]

Prints, per file, the share of samples in which each function appears (inclusive) and
the share where it is the innermost frame (self), so "ASGI send" or "JSON encode" can be
read off directly.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>[^ (]+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    file = m.group("file")
    for cut in ("site-packages/", "/work/main/", "python3.11/"):
        if cut in file:
            file = file.split(cut, 1)[1]
    return f"{m.group('func')} ({file})"


def summarize(path: Path, top: int = 25) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_name(f) for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        total += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    out = [f"{path.name}: {total} samples",
           f"{'incl %':>7} {'self %':>7}  function"]
    for f, n in inclusive.most_common(top):
        out.append(f"{100 * n / total:7.1f} {100 * own[f] / total:7.1f}  {f}")
    out.append("  top self:")
    for f, n in own.most_common(top // 2):
        out.append(f"{100 * n / total:7.1f}  {f}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtest.profiles", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    for f in args.files:
        print(summarize(f, args.top))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
