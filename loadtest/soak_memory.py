"""What grows inside the server between two memory snapshots of a soak.

The server writes them on SIGUSR2 when started with ``SWITCHBOARD_TRACEMALLOC=N``
(``realtime.cli.memory_diagnostics``; ``python -m loadtest.soak --tracemalloc N
--snapshot-at 600,1800`` sets it and sends the signals): ``tracemalloc-PID-TIME.pickle`` and
``gc-types-PID-TIME.json``. This compares the first and the last of a folder (or two given),
by allocation traceback and by live objects per type, each scaled to an hour:

    python -m loadtest.soak_memory /tmp/hRSS/run/memory [--top 15] [--frames 12]
"""

from __future__ import annotations

import argparse
import json
import tracemalloc
from pathlib import Path
from typing import Any


def snapshots(folder: Path) -> list[tuple[float, Path, Path]]:
    """(time, tracemalloc pickle, gc-types json) of each snapshot in the folder, oldest
    first."""
    out = []
    for pickle in folder.glob("tracemalloc-*.pickle"):
        stem = pickle.name.removeprefix("tracemalloc-").removesuffix(".pickle")
        types = folder / f"gc-types-{stem}.json"
        if types.exists():
            out.append((float(json.loads(types.read_text())["time"]), pickle, types))
    return sorted(out)


def type_growth(old: dict[str, Any], new: dict[str, Any], hours: float,
                top: int = 20) -> list[tuple[str, int, int, float]]:
    """(type, count before, count after, per hour) of the types whose live count grew most."""
    a, b = old["types"], new["types"]
    rows = [(name, int(a.get(name, 0)), int(n), (n - a.get(name, 0)) / hours)
            for name, n in b.items()]
    rows.sort(key=lambda r: -r[3])
    return [r for r in rows[:top] if r[3] > 0]


def compare(old: tuple[float, Path, Path], new: tuple[float, Path, Path], top: int = 15,
            frames: int = 12) -> str:
    """A readable report: totals, top growers by traceback, live objects by type."""
    hours = max(1e-9, (new[0] - old[0]) / 3600)
    a = tracemalloc.Snapshot.load(str(old[1]))
    b = tracemalloc.Snapshot.load(str(new[1]))
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap*>")]
    a, b = a.filter_traces(ignore), b.filter_traces(ignore)
    ta = sum(s.size for s in a.statistics("filename"))
    tb = sum(s.size for s in b.statistics("filename"))
    ga, gb = json.loads(old[2].read_text()), json.loads(new[2].read_text())
    lines = [f"between {new[0] - old[0]:.0f} s: traced {ta / 2**20:.2f} -> {tb / 2**20:.2f} MB "
             f"({(tb - ta) / 2**20 / hours:+.2f} MB/h); allocated blocks {ga['blocks']:,} -> "
             f"{gb['blocks']:,} ({(gb['blocks'] - ga['blocks']) / hours:+,.0f}/h)", ""]
    lines.append("top growers by allocation line:")
    for s in b.compare_to(a, "lineno")[:top]:
        lines.append(f"  {s.size_diff / 1024 / hours:+9.1f} KiB/h {s.count_diff / hours:+9.0f}"
                     f" blocks/h  (now {s.size / 1024:.0f} KiB, {s.count} blocks)  "
                     f"{s.traceback[0]}")
    lines += ["", "top growers by traceback:"]
    for s in b.compare_to(a, "traceback")[:top]:
        if s.size_diff <= 0:
            break
        lines.append(f"- {s.size_diff / 1024 / hours:+.1f} KiB/h, "
                     f"{s.count_diff / hours:+.0f} blocks/h (now {s.size / 1024:.0f} KiB, "
                     f"{s.count} blocks)")
        lines += ["    " + ln for ln in s.traceback.format(limit=frames, most_recent_first=True)]
    lines += ["", "live objects by type (gc.get_objects), growth per hour:"]
    for name, n0, n1, rate in type_growth(ga, gb, hours, top=top):
        lines.append(f"  {name:32} {n0:>9,} -> {n1:>9,}  {rate:+10,.0f}/h")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtest.soak_memory", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="where the server wrote its snapshots")
    ap.add_argument("--first", type=int, default=0, help="index of the older snapshot (0)")
    ap.add_argument("--last", type=int, default=-1, help="index of the newer one (-1)")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--frames", type=int, default=12)
    args = ap.parse_args(argv)
    found = snapshots(Path(args.folder))
    if len(found) < 2:
        print(f"{args.folder}: fewer than two snapshots")
        return 2
    print(compare(found[args.first], found[args.last], args.top, args.frames))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
