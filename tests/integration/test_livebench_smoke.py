"""The live dispatch benchmarks (``python -m dispatch.livebench``), tiny, run from outside the
repository as an installed tool would be, so they cannot rot. Correctness only, never speed:
every job decided, the JSON written, no error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def livebench(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, "-m", "dispatch.livebench", *args, "--json", str(out)],
                       capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert r.returncode == 0, f"livebench failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(out.read_text())
    assert result["machine"]["python"]
    return result


def test_batch(tmp_path: Path) -> None:
    r = livebench(tmp_path, "batch", "--techs", "2", "--jobs", "16", "--budget-s", "0.01",
                  "--urgent-after-s", "0.1", "--max-s", "120", "--planned", "2")
    # The batch, the urgent job and the two planned before, all decided; the urgent one
    # was offered.
    assert sum(r["statuses"].values()) == 19 and "new" not in r["statuses"], r
    assert r["urgent_offered_s"] is not None and r["first_plan_s"] is not None
    assert r["passes"] >= 2  # a budget of 10 ms: the batch took more than one pass


def test_scale_and_gps(tmp_path: Path) -> None:
    s = livebench(tmp_path, "scale", "--techs", "10", "--jobs", "40", "--solve-s", "1",
                  "--inserts", "3")
    assert s["planned"] + s["unassignable"] >= 40 and s["insert_e2e_ms"]["n"] == 3, s
    g = livebench(tmp_path, "gps", "--techs", "5", "--fixes", "100", "--concurrency", "5")
    assert g["lua_c1"]["fixes_per_s"] > 0 and g["engine_c5"]["latency_ms"]["n"] == 100, g
