"""The speed benchmarks of the README's Measured table run, side by side with another copy of the package, and print
their figures (they assert nothing themselves; these tests check that they run and say what they measured)."""
import json, os, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))


def _json_lines(out: str) -> list:
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def test_search_bench_runs_the_cpu_preset_side_by_side(tmp_path):
    "bench/search.py at the cpu preset's own input (whole utterances, Δ channels) against a copy (--before)."
    shutil.copytree(ROOT / "emodarts_nb", tmp_path / "emodarts_nb")
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "search.py"), "--cases", "cpu", "--orders", "first_order",
                        "--steps", "1", "--before", str(tmp_path)], capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    before, ours, ratio = _json_lines(r.stdout)
    assert "error" not in before and "error" not in ours, (before, ours)
    assert before["code"] == str(tmp_path / "emodarts_nb") and ours["code"] == str(ROOT / "emodarts_nb")
    assert ours["input"] == [3, 64, 100] and ours["batch"] == 32               # the preset's segments and batch
    assert ours["first_order"]["search_step_s"] > 0 and ours["first_order"]["gflop_per_step"] > 0
    assert ratio["ratio_other_over_ours"]["first_order"] > 0


def test_retrain_speed_bench_compares_with_an_earlier_copy(tmp_path):
    "bench/retrain_speed.py: MAC/s of searched networks as a share of the baseline's, and of the copy under --before."
    shutil.copytree(ROOT / "emodarts_nb", tmp_path / "emodarts_old")
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "retrain_speed.py"), "--steps", "1", "--genotypes", "1",
                        "--before", str(tmp_path)], capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = {row["model"]: row for row in _json_lines(r.stdout)}
    assert set(rows) == {"baseline", "searched_0", "searched_0_before"}
    assert rows["baseline"]["share_of_baseline"] == 1.0
    assert rows["searched_0"]["mmacs_per_step"] == rows["searched_0_before"]["mmacs_per_step"] > 0   # the same network
    assert all(row["input"] == [3, 64, 100] and row["gmacs_per_s"] > 0 for row in rows.values())
