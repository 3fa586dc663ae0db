"""The performance suite keeps running: timing helpers, and every section on micro shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the suite lives in the source tree's benchmarks/ package

from benchmarks.common import Case, interleave, summarize  # noqa: E402

from pavenet_sdk.commands.bench import SECTIONS, parse_sections  # noqa: E402


def test_interleave_alternates_cases_and_warms_up():
    calls = []
    cases = [Case("a", lambda: calls.append("a"), warmup=2), Case("b", lambda: calls.append("b"))]
    stats = interleave(cases, repeats=3)
    # warm-up rounds: a b, then a alone; then timed rounds a b a b a b
    assert calls == ["a", "b", "a"] + ["a", "b"] * 3
    assert stats["a"]["n"] == 3 and len(stats["b"]["times_ms"]) == 3
    with pytest.raises(ValueError):
        interleave(cases, repeats=0)


def test_summarize():
    s = summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["median_ms"], s["min_ms"], s["p90_ms"], s["mean_ms"], s["n"]) == (3, 1, 5, 3, 5)


def test_parse_sections():
    assert parse_sections(None) == list(SECTIONS)
    assert parse_sections("memory, backends") == ["memory", "backends"]
    with pytest.raises(ValueError, match="unknown section"):
        parse_sections("memory,nope")


def test_cli_rejects_unknown_section():
    env = dict(os.environ)  # the package under test: installed, or on the caller's PYTHONPATH
    out = subprocess.run(
        [sys.executable, "-m", "pavenet_sdk.cli", "bench", "--only", "nope"],
        env=env, capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert out.returncode == 2
    assert "unknown section" in out.stderr


@pytest.mark.slow
def test_smoke_suite_writes_every_result(tmp_path):
    pytest.importorskip("torch")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--smoke", "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    results = {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in SECTIONS}
    for name, data in results.items():
        assert data["section"] == name
        assert data["environment"]["threads"] == 1
        assert data["environment"]["mode"]["name"] == "smoke"

    cache = results["encoder_cache"]["runs"]
    assert {r["model"] for r in cache} == {"tiny", "paper-r50"}
    for run in cache:
        assert set(run["stats"]) == {
            "ours_torch",
            "ours_best",
            "ours_in_memory",
            "recompute",
            "ste",
        }
        assert all(s["n"] == 2 and s["median_ms"] > 0 for s in run["stats"].values())
        r = run["ratios"]["recompute_over_ours_torch"]
        assert r == pytest.approx(
            run["stats"]["recompute"]["median_ms"] / run["stats"]["ours_torch"]["median_ms"],
            rel=1e-2,
        )
    for target in results["encoder_cache"]["targets"]:
        assert target["met"] == (target["measured"] >= 2.5)

    crowd = results["crowd_scaling"]
    assert [r["persons"] for r in crowd["rows"]] == [1, 3]
    assert crowd["rows"][1]["two_stage_reference_ms"] == 12 + 19 * 3

    fused = results["fused_kernel"]["runs"][0]
    assert set(fused["shapes"]) == {"encoder_deformable", "stpd_pose_aware", "stjd_deformable"}
    assert all(v["op"] > 0 for k, v in fused["speedups"].items() if k != "model")

    engines = {r["engine"] for r in results["backends"]["runs"][0]["rows"]}
    assert {"torch eager", "TorchScript"} <= engines

    memory = results["memory"]["rows"]
    assert {r["streams"] for r in memory} == {1, 4}
    for row in memory:
        assert row["peak_mib"] >= row["readings_mib"]["after_load"]["VmRSS"] > 0
        assert row["cache_bytes_per_frame"] == 85 * 64 * 4  # micro model: 85 tokens x D 64

    roof = results["roofline"]
    assert roof["peak"]["peak_gflops"] > 0 and roof["copy_bandwidth"]["best_gb_per_s"] > 0
    flops = roof["models"][0]["flops_per_frame"]
    assert flops["encode_counted"] > 0 and flops["decode_sampling"] > 0

    summary = (tmp_path / "summary.md").read_text()
    for heading in ("Encoder cache", "Crowd scaling", "Fused", "Backends", "Memory", "limit"):
        assert heading in summary
    assert (tmp_path / "crowd_scaling.png").read_bytes()[:4] == b"\x89PNG"


def test_real_images_background_sets_name_and_pool_their_sources():
    import argparse

    from benchmarks.real_images import background_set

    assert background_set("data/pennfudan") == ("pennfudan", [Path("data/pennfudan")])
    assert background_set("held-out=a.json,b") == ("held-out", [Path("a.json"), Path("b")])
    with pytest.raises(argparse.ArgumentTypeError, match="no path"):
        background_set("held-out=")
