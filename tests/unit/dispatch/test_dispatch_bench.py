"""Smoke tests so the benchmarks cannot rot: each runs in a tiny configuration."""

from __future__ import annotations

import json

from dispatch.bench import main

from .dispatch_solver_helpers import vrptw_dir


def test_solomon_bench_on_one_instance(tmp_path, capsys):
    out = tmp_path / "s.json"
    main(["solomon", str(vrptw_dir() / "C101.txt"), "--time-limit", "1", "--json", str(out)])
    data = json.loads(out.read_text())
    row = data["instances"][0]
    assert row["instance"] == "C101" and row["feasible"]
    assert sorted(c for r in row["routes"] for c in r) == list(range(1, 101))
    assert row["vehicles"] == len(row["routes"]) and row["gap_percent"] < 5
    assert {"seconds", "distance"} <= row.keys()
    assert "mean gap" in capsys.readouterr().out


def test_churn_bench_tiny(tmp_path):
    out = tmp_path / "c.json"
    args = ["churn", "--instance", str(vrptw_dir() / "R101.txt"), "--events", "2"]
    args += ["--initial-s", "0.3", "--improve-s", "0.15", "--resolve-s", "0.3", "--json", str(out)]
    args += ["--quiet", "1", "--quiet-s", "0.1"]
    main(args)
    data = json.loads(out.read_text())
    assert data["events"] == 2 and data["all_feasible"]
    assert 0.0 <= data["mean_churn"] <= 1.0 and data["mean_scratch_churn"] is not None
    assert len(data["per_event"]) == 2
    assert data["quiet_ticks"] == 1 and len(data["per_quiet_tick"]) == 1
    assert data["settled_distance"] is not None and 0.0 <= data["churn_with_quiet"] <= 1.0
    routed = [t for r in data["routes"].values() for t in r]
    assert len(routed) == len(set(routed)) and set(routed) <= {str(c) for c in range(1, 101)}


def test_scale_bench_tiny(tmp_path):
    out = tmp_path / "sc.json"
    args = ["scale", "--vehicles", "8", "--tasks", "30", "--time-limit", "0.3"]
    args += ["--inserts", "5", "--json", str(out)]
    main(args)
    data = json.loads(out.read_text())
    assert data["violations"] == 0 and data["stream_violations"] == 0
    assert data["planned"] + data["unassigned"] == 30
    assert data["insert_stream_ms"]["p95"] > 0


def test_solomon_bench_usage_errors_say_what(tmp_path, capsys):
    import pytest
    c101 = str(vrptw_dir() / "C101.txt")
    for args, said in ((["--time-limit", "0", c101], "--time-limit must be above 0"),
                       (["--time-limit", "-1", c101], "--time-limit must be above 0"),
                       (["--time-limit", "1", str(tmp_path / "nope.txt")], "no such file"),
                       (["--time-limit", "1", c101, "--bks", str(tmp_path / "b.csv")],
                        "no such file")):
        with pytest.raises(SystemExit) as exited:
            main(["solomon", *args])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err, err


def test_solomon_bench_refuses_files_that_are_not_instances(tmp_path, capsys):
    import pytest
    c101 = str(vrptw_dir() / "C101.txt")
    text, binary, short = tmp_path / "notes.txt", tmp_path / "blob.bin", tmp_path / "short.txt"
    text.write_text("hello\nworld\n")
    binary.write_bytes(bytes(range(256)))
    short.write_text("X\n\nVEHICLE\nNUMBER CAPACITY\n 25 200\n\nCUSTOMER\nCUST NO.\n 0 1 2 3\n")
    for f, said in ((text, "VEHICLE/CUSTOMER"), (binary, "not a text file"),
                    (short, "want (n, 7)")):
        with pytest.raises(SystemExit) as exited:
            main(["solomon", c101, str(f), "--time-limit", "1"])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert f"{f}: not a Solomon instance" in err and said in err, err
    with pytest.raises(SystemExit):
        main(["solomon", c101, "--time-limit", "1", "--bks", str(binary)])
    assert "want a csv with columns instance,distance" in capsys.readouterr().err


def test_solomon_bench_without_best_known_distances_still_solves(tmp_path, capsys):
    alone = tmp_path / "C101.txt"
    alone.write_text((vrptw_dir() / "C101.txt").read_text())
    main(["solomon", str(alone), "--time-limit", "0.3"])
    out = capsys.readouterr().out
    assert "gap is not computed" in out and "n/a True" in out
    assert "no best-known distance for these instances; all feasible: True" in out
