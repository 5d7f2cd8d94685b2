"""The speed benchmarks of the README's Measured table run, side by side with another copy of the package, and print
their figures (they assert nothing themselves; these tests check that they run and say what they measured)."""
import json, os, shutil, statistics, sys
from pathlib import Path

import pytest
import forked

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))


def _json_lines(out: str) -> list:
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def _markdown(notebook: str) -> str:
    "The markdown cells of nbs/NOTEBOOK as one line of text (whitespace runs as one space)."
    nb = json.loads((ROOT / "nbs" / notebook).read_text())
    return " ".join(" ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown").split())


def test_search_bench_runs_the_cpu_preset_side_by_side(tmp_path):
    "bench/search.py at the cpu preset's own input (whole utterances, Δ channels) against a copy (--before)."
    shutil.copytree(ROOT / "emodarts_nb", tmp_path / "emodarts_nb")
    r = forked.run([sys.executable, str(ROOT / "bench" / "search.py"), "--cases", "cpu", "--orders", "first_order",
                    "--steps", "1", "--before", str(tmp_path)], env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    before, ours, ratio = _json_lines(r.stdout)
    assert "error" not in before and "error" not in ours, (before, ours)
    assert before["code"] == str(tmp_path / "emodarts_nb") and ours["code"] == str(ROOT / "emodarts_nb")
    assert ours["input"] == [3, 64, 100] and ours["batch"] == 32               # the preset's segments and batch
    assert ours["first_order"]["search_step_s"] > 0 and ours["first_order"]["gflop_per_step"] > 0
    assert ratio["ratio_other_over_ours"]["first_order"] > 0


def test_ops_bench_times_each_operation_on_its_edges_inputs_beside_a_copy(tmp_path):
    "bench/ops_speed.py: one line per (edge input, operation) with both copies' times, their largest difference (0: the"
    " same code) and the families' totals weighed by the edges that run them."
    (tmp_path / "emodarts_old").mkdir()
    shutil.copytree(ROOT / "emodarts_nb", tmp_path / "emodarts_old", dirs_exist_ok=True)
    r = forked.run([sys.executable, str(ROOT / "bench" / "ops_speed.py"), "--case", "cpu", "--reps", "1",
                    "--ops", "avg_pool_3x3,gru_1", "--before", str(tmp_path)], env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [l.split() for l in r.stdout.splitlines() if l.startswith(("cnn ", "seq "))]
    cnn = [row for row in rows if row[0] == "cnn"]
    assert {row[4] for row in cnn} == {"avg_pool_3x3"} and {row[1] for row in cnn} == {"1", "2"}  # normal and reducing edges
    assert [row[3:5] for row in rows if row[0] == "seq"] == [["10", "gru_1"]]  # the cpu preset's 10 sequential edges
    assert all(float(row[-1]) == 0 and float(row[5]) > 0 and float(row[6]) > 0 for row in rows)  # same code, same values
    families = {l.split()[0] for l in r.stdout.split("per forward + backward")[1].splitlines()[1:]}
    assert families == {"avg_pool", "gru"}


def test_small_map_ops_bench_times_both_kernels_and_says_which_batch_norm_runs():
    "bench/small_map_ops.py: per shape, torch's and our batch norm and max pool, medians, ratios, the largest difference."
    r = forked.run([sys.executable, str(ROOT / "bench" / "small_map_ops.py"), "--shapes", "2x4x5x6,2x8x5x6", "--reps", "1"],
                   env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("# reproduce: OMP_NUM_THREADS=1 python bench/small_map_ops.py --shapes")
    a, b = _json_lines(r.stdout)
    assert (a["shape"], a["rows"], b["rows"]) == ("2x4x5x6", True, False)      # one thread: the rows below 7 channels
    assert a["pool_max_diff"] == a["pool_stride2_max_diff"] == 0 and a["bn_max_diff"] < 1e-4  # the same max; BN to rounding
    assert min(a["batch_norm_train_ms"].values()) > 0 and a["pool_ratio"] > 0


def test_search_bench_rounds_take_turns_going_first(monkeypatch, capsys):
    "With --before, the two codes swap who runs first every round (the first of a pair timed slower in an A/A run)."
    sys.path.insert(0, str(ROOT / "bench"))
    import search as bench_search
    calls = []
    def fake(case, a, code=None, official=None):
        calls.append("other" if code else "ours")
        t = {"other": 2.0, "ours": 1.0}[calls[-1]] + len(calls) / 100
        return dict(case=case, code=code or "ours", first_order=dict(search_step_s=t), peak_rss_MB=100)
    monkeypatch.setattr(bench_search, "run_case", fake)
    monkeypatch.setattr(sys, "argv", ["search.py", "--cases", "cpu", "--orders", "first_order", "--rounds", "3",
                                      "--before", "/elsewhere"])
    bench_search.main()
    assert calls == ["other", "ours", "ours", "other", "other", "ours"]
    ratio = _json_lines(capsys.readouterr().out)[-1]["ratio_other_over_ours"]
    assert ratio == {"first_order": round(2.04 / 1.03, 2), "peak_rss": 1.0}  # medians of 2.01, 2.04, 2.05 and 1.02, 1.03, 1.06


def test_retrain_speed_bench_compares_with_an_earlier_copy(tmp_path):
    "bench/retrain_speed.py: MAC/s of searched networks as a share of the baseline's, and of the copy under --before."
    shutil.copytree(ROOT / "emodarts_nb", tmp_path / "emodarts_old")
    r = forked.run([sys.executable, str(ROOT / "bench" / "retrain_speed.py"), "--steps", "1", "--genotypes", "1",
                    "--before", str(tmp_path)], env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = {row["model"]: row for row in _json_lines(r.stdout)}
    assert set(rows) == {"baseline", "searched_0", "searched_0_before"}
    assert rows["baseline"]["share_of_baseline"] == 1.0
    assert rows["searched_0"]["mmacs_per_step"] == rows["searched_0_before"]["mmacs_per_step"] > 0   # the same network
    assert all(row["input"] == [3, 64, 100] and row["gmacs_per_s"] > 0 for row in rows.values())


def test_retrain_speed_bench_times_the_genotypes_a_report_found(tmp_path):
    "--runs: the genotypes of an emodb_report.py run folder (searched/FOLD/seedS/search/genotype.json), named so."
    import torch
    from emodarts_nb.core import save_json
    from emodarts_nb.supernet import random_genotype
    from emodarts_nb.train import get_train_config
    space = get_train_config("cpu").space
    for fold, seed in (("03", 0), ("08", 1)):
        g = random_genotype(space, generator=torch.Generator().manual_seed(seed))
        (tmp_path / "searched" / fold / f"seed{seed}" / "search").mkdir(parents=True)
        save_json({"best": g.to_dict()}, tmp_path / "searched" / fold / f"seed{seed}" / "search" / "genotype.json")
    r = forked.run([sys.executable, str(ROOT / "bench" / "retrain_speed.py"), "--steps", "1", "--runs", str(tmp_path)],
                   env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert [row["model"] for row in _json_lines(r.stdout)] == ["baseline", "searched_03_seed0", "searched_08_seed1"]
    r = forked.run([sys.executable, str(ROOT / "bench" / "retrain_speed.py"), "--runs", str(tmp_path / "none")],
                   env=ENV, timeout=600)
    assert r.returncode != 0 and "no searched/FOLD/seedS/search/genotype.json" in r.stderr


def _readme_row(start: str) -> str:
    rows = [l for l in (ROOT / "README.md").read_text().splitlines() if l.startswith(start)]
    assert len(rows) == 1, f"the README's Measured table has {len(rows)} rows starting {start!r}"
    return rows[0]


def test_readme_side_by_side_row_matches_the_results_file():
    "The Measured row of the emodarts shape says what bench/results/search_emodarts_side_by_side*.txt hold (this"
    " release's run and the earlier one): each code's medians over the rounds (one line per code and round, then the"
    " ratio line)."
    row = _readme_row("| search step, `emodarts` shape")
    for name in ("search_emodarts_side_by_side_2f40546.txt", "search_emodarts_side_by_side.txt"):
        *runs, ratio = _json_lines((ROOT / "bench" / "results" / name).read_text())
        official = [r for r in runs if r["code"].startswith("official")]
        ours = [r for r in runs if not r["code"].startswith("official")]
        assert official and len(official) == len(ours)
        for who, rs in (("official", official), ("ours", ours)):
            med = lambda f: statistics.median(f(r) for r in rs)
            want = (f"{med(lambda r: r['first_order']['search_step_s']):.1f} s", f"{med(lambda r: r['peak_rss_MB']) / 1000:.1f} GB",
                    f"{med(lambda r: r['first_order']['gflops']):.1f} GFLOP/s",
                    f"({100 * med(lambda r: r['first_order']['share_of_gemm_peak']):.1f} %",
                    f"{med(lambda r: r['first_order']['gflop_per_step']):.0f} GFLOP")
            for w in want: assert w in row, f"{name}, {who}: {w} not in the README row"
        speed, mem = ratio["ratio_other_over_ours"]["first_order"], ratio["ratio_other_over_ours"]["peak_rss"]
        assert f"{speed:.2f} times {'faster' if speed >= 1 else 'slower'}" in row or f"{1 / speed:.2f} times slower" in row
        assert f"{mem:.2f} times less memory" in row
    runs = [r for r in _json_lines((ROOT / "bench" / "results" / "search_alpha_const_before_after.txt").read_text())
            if r["case"] == "emodarts" and "code" in r]                                  # its cpu case: no claim
    peaks = lambda old: sorted(r["peak_rss_MB"] for r in runs if r["code"].startswith("/tmp/old_fo") == old)
    assert f"peak {min(peaks(False))}-{max(peaks(False))} MB against {min(peaks(True))}-{max(peaks(True))} MB" in row
    text = (ROOT / "bench" / "results" / "search_emodarts_before_after.txt").read_text()       # against 9d4450b
    *runs, ratio = _json_lines(text)
    before_dir = text.split("--before ")[1].split()[0]                    # the older copy's folder, from the command line
    step = lambda before: statistics.median(r["first_order"]["search_step_s"] for r in runs if r["code"].startswith(before_dir) == before)
    assert f"{step(False):.1f} s against {step(True):.1f} s per search step, {ratio['ratio_other_over_ours']['first_order']:.2f} times faster" in row
    second = _json_lines((ROOT / "bench" / "results" / "search_emodarts_second_order.txt").read_text())[0]
    assert f"{second['second_order']['search_step_s']:.1f} s per step, {second['peak_rss_MB'] / 1000:.1f} GB" in row


def _before_after_blocks(name: str) -> list:
    "The runs of a bench/results file of `bench/search.py --before` commands: [(case, {True: older copy, False: ours}, ratio)]."
    out, cur, before_dir = [], [], None
    for line in (ROOT / "bench" / "results" / name).read_text().splitlines():
        if line.startswith("# reproduce:") and "--before " in line: before_dir = line.split("--before ")[1].split()[0]
        if not line.startswith("{"): continue
        d = json.loads(line)
        if "ratio_other_over_ours" not in d: cur.append(d); continue
        out.append((d["case"], {b: [r for r in cur if r["code"].startswith(before_dir) == b] for b in (True, False)},
                    d["ratio_other_over_ours"]))
        cur = []
    return out


def test_readme_side_by_side_row_quotes_this_release_against_the_official_code():
    "The emodarts row's headline, this release against the official code (bench/results/search_emodarts_side_by_side_6090792.txt,"
    " two runs of the command): each code's median step over the rounds of each run, the ranges of memory, GFLOP/s and"
    " share of the GEMM peak, and each run's ratio."
    row = _readme_row("| search step, `emodarts` shape")
    runs, cur = [], []
    for line in (ROOT / "bench" / "results" / "search_emodarts_side_by_side_6090792.txt").read_text().splitlines():
        if line.startswith("{"):
            cur.append(json.loads(line))
            if "ratio_other_over_ours" in cur[-1]: runs.append(cur); cur = []
    assert len(runs) == 2
    for who in ("official", "ours"):
        rounds = [[r for r in run[:-1] if r["code"].startswith("official") == (who == "official")] for run in runs]
        steps = [[r["first_order"]["search_step_s"] for r in rs] for rs in rounds]
        plain = row.replace("**", "")
        for v in steps:                                    # one run: the median over its rounds, then each round's step
            said = f"{statistics.median(v):.1f} s"
            assert f"{said} ({v[0]:.1f} and {v[1]:.1f} s)" in plain or f"{said} per search step ({v[0]:.1f} and {v[1]:.1f} s)" in plain, (who, v)
        flat = [r for rs in rounds for r in rs]
        lo_hi = lambda f, k=1: f"{min(f(r) for r in flat) * k:.1f}-{max(f(r) for r in flat) * k:.1f}"
        assert f"{lo_hi(lambda r: r['peak_rss_MB'] / 1000)} GB" in row.replace("**", ""), who
        assert f"at {lo_hi(lambda r: r['first_order']['gflops'])} GFLOP/s" in row, who
        assert f"{lo_hi(lambda r: r['first_order']['share_of_gemm_peak'], 100)} %" in row, who
    ratios = [run[-1]["ratio_other_over_ours"]["first_order"] for run in runs]
    assert f"**{ratios[0]:.2f} and {ratios[1]:.2f} times faster" in row, ratios


def test_readme_emodarts_row_quotes_the_last_before_after_run():
    "The emodarts row's figures of this release against the package before its last two changes"
    " (bench/results/search_emodarts_before_after_6090792.txt): each code's median and rounds, the ratio, the best share."
    row = _readme_row("| search step, `emodarts` shape")
    (_, runs, r), = _before_after_blocks("search_emodarts_before_after_6090792.txt")
    steps = lambda before: [x["first_order"]["search_step_s"] for x in runs[before]]
    said = lambda v: f"{statistics.median(v):.1f} s ({v[0]:.1f} and {v[1]:.1f} s)"
    assert f"{said(steps(False))} against {said(steps(True))}, {r['first_order']:.2f} times faster" in row
    assert round(r["peak_rss"], 1) == 1.0 and "the same memory" in row
    best = max(x["first_order"]["share_of_gemm_peak"] for x in runs[False])
    assert f"its quickest round reached {100 * best:.1f} % of the GEMM peak" in row


def test_readme_rows_quote_the_last_speed_changes():
    "The Measured rows' figures of the last speed changes, each as its file holds it: the operation families' totals"
    " (ops_speed_attention_pieces.txt, ops_speed_bn_wide_rows.txt), the tiny search step (search_tiny_bn_wide_rows.txt)"
    " and the architecture step with the weights as constants (alpha_step.txt, the emodarts case)."
    import re
    res = ROOT / "bench" / "results"
    ops = _readme_row("| time per operation family")
    for name in ("ops_speed_attention_pieces", "ops_speed_bn_wide_rows"):
        now, before, ratio = re.search(r"edge\): (\d+) ms, before (\d+) ms \(([\d.]+)x\)", (res / f"{name}.txt").read_text()).groups()
        assert f"{before} → {now} ms ({ratio}x; bench/results/{name}.txt)" in ops, name
    (_, runs, ratio), = _before_after_blocks("search_tiny_bn_wide_rows.txt")
    (b0, b1), (n0, n1) = (sorted(r["first_order"]["search_step_s"] for r in runs[b]) for b in (True, False))
    said = (f"{b0:.3f}-{b1:.3f} s against {n0:.3f}-{n1:.3f} s per search step "
            f"({ratio['first_order']:.2f} times faster; bench/results/search_tiny_bn_wide_rows.txt)")
    assert said in _readme_row("| search step, `tiny` preset"), said
    alpha = (res / "alpha_step.txt").read_text().split("# OMP_NUM_THREADS=1")[0]           # its emodarts case
    assert "--case emodarts --threads 2 --rounds 6" in alpha
    r = float(re.search(r"ratio \(weights needing gradients / weights as constants\): ([\d.]+)", alpha).group(1))
    assert f"the step itself {r:.2f} times faster at this shape in one process" in _readme_row("| search step, `emodarts` shape")


def test_readme_rows_quote_the_older_before_after_runs():
    "The cpu row's run against 9d4450b (search_cpu_before_after.txt) and the emodarts row's batch-norm folding run"
    " (search_bnfold_before_after.txt, its emodarts case), as their files hold them."
    med = lambda rs, f: statistics.median(f(r) for r in rs)
    step, share = (lambda r: r["first_order"]["search_step_s"]), (lambda r: r["first_order"]["share_of_gemm_peak"])
    (case, runs, ratio), = _before_after_blocks("search_cpu_before_after.txt")
    said = (f"first order {med(runs[True], step):.2f} s against {med(runs[False], step):.2f} s ({ratio['first_order']:.2f} times "
            f"faster), {100 * med(runs[False], share):.1f} % of the matmul peak ({100 * med(runs[True], share):.1f} % before)")
    assert case == "cpu" and said in _readme_row("| search step, `cpu` preset"), said
    case, runs, ratio = [b for b in _before_after_blocks("search_bnfold_before_after.txt") if b[0] == "emodarts"][-1]
    peak = lambda before: f"{med(runs[before], lambda r: r['peak_rss_MB']):.0f} MB"
    said = f"{peak(False)} against {peak(True)} at the peak for the package before it, {ratio['first_order']:.2f} times faster"
    assert said in _readme_row("| search step, `emodarts` shape"), said


def test_readme_tiny_row_matches_the_results_files():
    "The tiny preset's row says what bench/results/search_tiny_before_after.txt and small_map_ops_1thread.txt hold."
    text = (ROOT / "bench" / "results" / "search_tiny_before_after.txt").read_text()
    *runs, ratio = _json_lines(text)
    before_dir = text.split("--before ")[1].split()[0]
    step = lambda before: statistics.median(r["first_order"]["search_step_s"] for r in runs if r["code"].startswith(before_dir) == before)
    row = _readme_row("| search step, `tiny` preset")
    assert (f"{step(True):.2f} s against {step(False):.2f} s per search step "
            f"({ratio['ratio_other_over_ours']['first_order']:.2f} times faster") in row
    ops = _json_lines((ROOT / "bench" / "results" / "small_map_ops_1thread.txt").read_text())
    bn = [o["bn_ratio"] for o in ops if o["rows"]]
    pool, pool2 = [o["pool_ratio"] for o in ops], [o["pool_stride2_ratio"] for o in ops]
    assert all(o["pool_max_diff"] == o["pool_stride2_max_diff"] == 0 for o in ops)
    assert all(o["bn_ratio"] < 1 for o in ops if not o["rows"])                  # where torch's kernel runs, it is faster
    assert f"{min(bn):.2f} to {max(bn):.2f} times faster" in row
    assert f"{min(pool):.2f} to {max(pool):.2f} times faster at stride 1, {min(pool2):.2f} to {max(pool2):.2f} times at stride 2" in row


def test_search_bench_times_the_tiny_case():
    "bench/search.py --case tiny: the tests' and tutorials' search at batch 16, in this process's package."
    r = forked.run([sys.executable, str(ROOT / "bench" / "search.py"), "--case", "tiny", "--orders", "first_order",
                    "--steps", "1"], env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    (got,) = _json_lines(r.stdout)
    assert (got["case"], got["batch"], got["C"], got["threads"]) == ("tiny", 16, 4, 1)
    assert got["first_order"]["search_step_s"] > 0


def test_alpha_step_bench_times_both_kinds_and_says_the_ratio():
    "bench/alpha_step.py --case tiny: both kinds of architecture step timed in one process (same gradients), a ratio."
    r = forked.run([sys.executable, str(ROOT / "bench" / "alpha_step.py"), "--case", "tiny", "--rounds", "2"],
                   env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert lines[0] == "# OMP_NUM_THREADS=1 python bench/alpha_step.py --case tiny --threads 1 --rounds 2"
    assert lines[2].startswith("weights as constants: median ") and lines[3].startswith("weights needing gradients: median ")
    assert float(lines[4].rsplit(" ", 1)[1]) > 0, lines


def test_readme_retraining_row_quotes_the_run_against_9d4450b():
    "The retraining row's figures against 9d4450b are bench/results/retrain_speed_vs_9d4450b.txt's: shares and step ratios."
    rows = {r["model"]: r for r in _json_lines((ROOT / "bench" / "results" / "retrain_speed_vs_9d4450b.txt").read_text())}
    now = [k for k in rows if k.startswith("searched") and not k.endswith("_before")]
    share = lambda ks: [rows[k]["share_of_baseline"] for k in ks]
    speed = [rows[f"{k}_before"]["step_s"] / rows[k]["step_s"] for k in now]
    s, b = share(now), share(f"{k}_before" for k in now)
    said = (f"median {statistics.median(s):.2f} ({min(s):.2f}-{max(s):.2f}) against {statistics.median(b):.2f} ({min(b):.2f}-{max(b):.2f}), "
            f"a training step {statistics.median(speed):.2f} times faster (median; {min(speed):.2f}-{max(speed):.2f})")
    assert len(now) == 10 and said in _readme_row("| retraining throughput"), said


def test_readme_ops_row_matches_the_results_files():
    "The per-family row says what bench/results/ops_speed_{emodarts,cpu}.txt hold: totals, ratios, every family's share."
    import re
    row = _readme_row("| time per operation family")
    for name in ("emodarts", "cpu"):
        text = (ROOT / "bench" / "results" / f"ops_speed_{name}.txt").read_text()
        now, before, ratio = re.search(r"edge\): (\d+) ms, before (\d+) ms \(([\d.]+)x\)", text).groups()
        assert f"{now} ms" in row and f"against {before} ms" in row and f"({ratio}x)" in row, name
        for fam, share, r in re.findall(r"^(\w+)\s+[\d.]+ ms\s+([\d.]+) %\s+before\s+[\d.]+ ms \(([\d.]+)x\)", text, re.M):
            said = f"{fam} {share} %" + (f" ({r}x" if float(r) >= 1.1 else "")
            assert said in row, f"{name}: {said}"
        diffs = [float(l.split()[-1]) for l in text.splitlines() if l.startswith(("cnn ", "seq "))]
        assert diffs and max(diffs) <= 3e-6                                      # "equal the older copy's to 3e-6"


def test_readme_retraining_row_matches_the_results_file():
    "The retraining-throughput row says the median share of the baseline's MAC/s in bench/results/retrain_speed.txt."
    rows = _json_lines((ROOT / "bench" / "results" / "retrain_speed.txt").read_text())
    now = [r["share_of_baseline"] for r in rows if r["model"].startswith("searched") and not r["model"].endswith("_before")]
    before = [r["share_of_baseline"] for r in rows if r["model"].endswith("_before")]
    row = _readme_row("| retraining throughput")
    assert f"median {statistics.median(now):.2f}" in row and f"median {statistics.median(before):.2f}" in row
    assert f"{sum(s >= 0.5 for s in now)} of {len(now)} at least 0.5" in row
    found = [r["share_of_baseline"] for r in _json_lines((ROOT / "bench" / "results" / "retrain_speed_found.txt").read_text())
             if r["model"] != "baseline"]
    assert (f"the {len(found)} genotypes" in row and f"median {statistics.median(found):.2f}" in row
            and f"{min(found):.2f}-{max(found):.2f}" in row and f"{sum(s >= 0.5 for s in found)} of {len(found)}" in row)


def test_readme_gpu_row_matches_the_results_file():
    "The GPU row of the Measured table says what bench/results/search_gpu_h200.txt holds, GPU named."
    rows = {(r["case"], r["code"].startswith("official") or "emoDARTS" in r["code"]): r  # an error line: the path
            for r in _json_lines((ROOT / "bench" / "results" / "search_gpu_h200.txt").read_text()) if "code" in r}
    row = _readme_row("| search step on a GPU")
    official, ours, ours64 = rows["emodarts", True], rows["emodarts", False], rows["emodarts-b64", False]
    assert {r["gpu"] for r in (official, ours, ours64)} == {"NVIDIA H200"} and "NVIDIA H200" in row
    for r in (official, ours):
        assert f"{r['first_order']['search_step_s']:.2f} s" in row and f"{r['second_order']['search_step_s']:.2f} s" in row
        assert f"{r['peak_cuda_MB'] / 1000:.1f} GB" in row
    assert f"{official['first_order']['search_step_s'] / ours['first_order']['search_step_s']:.2f} times its speed" in row
    assert f"{official['peak_cuda_MB'] / ours['peak_cuda_MB']:.1f} times less memory" in row
    assert f"{ours64['first_order']['search_step_s']:.2f} s, {ours64['peak_cuda_MB'] / 1000:.1f} GB" in row
    assert "error" in rows["emodarts-b64", True] and "fails at batch 64" in row
    for r, pct in ((ours, "0.4 %"), (ours64, "1.6 %")):
        assert f"{100 * r['first_order']['share_of_gemm_peak']:.1f} %" == pct and pct in row


def test_studies_compare_each_setting_with_the_first_fold_by_fold(capsys):
    "The EmoDB studies print, beside the means, each setting against the first: mean difference, won/tied/lost, p."
    sys.path.insert(0, str(ROOT / "bench"))
    from _studies import print_choice
    from retrain_study import print_seed_spread
    valid = {8: [0.80, 0.70, 0.90, 0.60, 0.75, 0.85], 16: [0.85, 0.70, 0.95, 0.70, 0.80, 0.90]}
    rows = [dict(fold=f, C=c, valid_ua=v, test_ua=0.5, params=c) for c in (8, 16) for f, v in enumerate(valid[c])]
    print_choice(rows, "C")
    out = capsys.readouterr().out
    assert "chosen on validation speakers: C=16" in out
    # 5 of 6 folds higher, 1 tied: 2 of the 2**5 sign patterns of the non-zero differences are as extreme
    assert ("C=16 against C=8, valid UA fold by fold: +0.050 over 6 folds, 5/1/0 won/tied/lost, sign-flip p 0.062 "
            "(the smallest p 5 untied pairs can give: 0.062)") in out
    end = {8: [0.70] * 6, 16: [0.60] * 5 + [0.75]}          # the last epochs' mean can disagree with the best epoch
    print_choice([dict(r, valid_ua_end=end[r["C"]][r["fold"]]) for r in rows], "C")
    out = capsys.readouterr().out
    assert ("C=16 against C=8, valid UA of the last 5 epochs fold by fold: -0.075 over 6 folds, 1/0/5 won/tied/lost, "
            "sign-flip p 0.062 (the smallest p 6 untied pairs can give: 0.031)") in out
    assert "valid UA fold by fold: +0.050" in out             # the best epoch's line stays
    # rows of several seeds: a pair is one run (fold and seed), the same six pairs as three folds of two seeds each
    print_choice([dict(r, fold=r["fold"] // 2, seed=r["fold"] % 2) for r in rows], "C")
    assert ("C=16 against C=8, valid UA fold by fold: +0.050 over 6 runs (fold, seed), 5/1/0 won/tied/lost, sign-flip "
            "p 0.062" in capsys.readouterr().out)
    print_choice([dict(r, C=None if r["C"] == 8 else 16) for r in rows], "C")   # a value off (none), first
    out = capsys.readouterr().out
    assert "C=16 against C=none, valid UA fold by fold: +0.050 over 6 folds" in out and "\nnone " in out, out
    print_seed_spread([dict(fold=f, seed=s, valid_ua=v) for s in (8, 16) for f, v in enumerate(valid[s])])
    assert "their std 0.035" in capsys.readouterr().out


def test_retrain_study_reads_words_and_held_fields(capsys):
    """--vary takes numbers, words and sequences of them; --set holds a field in every run, and a field cannot be both
    held and varied; several --vary go together value by value, so they need as many values each."""
    sys.path.insert(0, str(ROOT / "bench"))
    from retrain_study import main, parse_value
    from _studies import shown
    assert [parse_value(x) for x in ("8", "0.2", "attention")] == [8, 0.2, "attention"]
    cells = parse_value("reduce+normal+normal")                  # a sequence: a tuple field such as cnn_cells
    assert cells == ("reduce", "normal", "normal") and shown(cells) == "reduce+normal+normal" and shown(8) == 8
    for argv, says in ((["--vary", "C=8,16", "--set", "C=4"], "a field is either held or varied"),
                       (["--vary", "C=8,16", "--set", "time_pool"], "write one field and one value"),
                       (["--vary", "C"], "write a field and its values"),
                       (["--vary", "convs=drawn,conv_9x9"], "convs=conv_9x9: not a CNN operation"),
                       (["--model", "baseline", "--vary", "convs=drawn,conv_3x3"], "keeps no genotype to change"),
                       (["--vary", "aux_weight=0.4,0.0", "--vary", "select=last"], "give every varied field as many"),
                       (["--vary", "C=8,16", "--vary", "C=4,8"], "--vary C=... given twice"),
                       (["--vary", "epochs=20,40", "--epochs", "3"], "--epochs and a field of --set or --vary: give it once"),
                       (["--vary", "C=8,16", "--vary", "epochs=20,40", "--set", "epochs=30"],
                        "--set and --vary epochs: a field is either held or varied")):
        with pytest.raises(SystemExit):
            main(["--folds", "0", *argv])
        assert says in capsys.readouterr().err


def test_retrain_study_reads_a_searched_jobs_own_retraining_back(tmp_path):
    """--model searched: a setting that retrains as the `searched` job did (the preset, same seed; the feature cache is
    not a setting) is a link to the job's retraining; another setting or seed gets a run of its own."""
    from dataclasses import replace
    sys.path.insert(0, str(ROOT / "bench"))
    from retrain_study import link_job_training
    from emodarts_nb.config import get_train_config
    job_run = tmp_path / "searched" / "03" / "seed30" / "train"
    job_run.mkdir(parents=True)
    job_config = replace(get_train_config("cpu", seed=30), cache_dir=str(tmp_path / "cache"))
    assert (job_config.aux_weight, job_config.select) == (0.4, "valid_ua")       # the preset, as the study names it
    runs = {name: tmp_path / "f0" / name for name in ("preset", "other", "seed31")}
    for name, change in (("preset", dict(seed=30, aux_weight=0.4, select="valid_ua")),
                         ("other", dict(seed=30, aux_weight=0.0, select="last")),
                         ("seed31", dict(seed=31, aux_weight=0.4, select="valid_ua"))):
        link_job_training(runs[name], change, job_run, job_config)
    assert runs["preset"].is_symlink() and runs["preset"].resolve() == job_run.resolve()
    assert not runs["other"].exists() and not runs["seed31"].exists()
    link_job_training(runs["preset"], dict(seed=30), job_run, job_config)            # already there: left as it is
    assert runs["preset"].resolve() == job_run.resolve()


def test_retrain_study_retrains_what_a_search_finds(emodb_subset, tmp_path):
    """--model searched on one loso_dev fold of a subset of EmoDB (short presets): the searched job's own retraining
    is the preset's row (a link), another setting retrains the same genotype on the same fold with its own config, and
    the preset's config with the genotype's convolutions changed retrains too (not the job's genotype)."""
    import pandas as pd
    r = forked.run([sys.executable, "bench/retrain_study.py", "--folds", "0", "--model", "searched", "--protocol",
                    "loso_dev", "--set", "seed=3", "--vary", "aux_weight=0.4,0.0,0.4", "--vary", "select=valid_ua,last,valid_ua",
                    "--vary", "convs=drawn,drawn,conv_3x3",
                    "--emodb", str(emodb_subset), "--epochs", "3", "--max-steps", "1", "--out", str(tmp_path / "o"),
                    "--results", str(tmp_path / "o.csv")], cwd=ROOT, env=ENV, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    d = pd.read_csv(tmp_path / "o.csv", comment="#")
    assert d["aux_weight+select+convs"].tolist() == ["0.4+valid_ua+drawn", "0.0+last+drawn", "0.4+valid_ua+conv_3x3"], d
    assert d.genotype[0] == d.genotype[1], d
    [job] = (tmp_path / "o" / "searched").glob("*/seed3")
    done = json.loads((job / "done.json").read_text())
    assert done["genotype"] == d.genotype[0] and done["ua"] == pytest.approx(d.test_ua[0])
    preset, other, conv = (tmp_path / "o" / "f0" / n for n in ("seed3-aux_weight0.4-selectvalid_ua-convsdrawn",
                                                               "seed3-aux_weight0.0-selectlast-convsdrawn",
                                                               "seed3-aux_weight0.4-selectvalid_ua-convsconv_3x3"))
    assert preset.resolve() == (job / "train").resolve()
    assert other.is_dir() and not other.is_symlink() and conv.is_dir() and not conv.is_symlink()
    cfg = json.loads((other / "config.json").read_text())
    assert (cfg["aux_weight"], cfg["select"], cfg["seed"], cfg["epochs"], cfg["max_steps"]) == (0.0, "last", 3, 3, 1)
    fold = lambda run: json.loads((run / "fold.json").read_text())
    assert fold(other)["protocol"] == "loso_dev" and fold(other)["test"] == fold(job / "train")["test"]


def test_retrain_study_swaps_every_kept_convolution():
    "convs=OP replaces the separable and dilated convolutions a genotype keeps, and nothing else; 'drawn' keeps it."
    sys.path.insert(0, str(ROOT / "bench"))
    from retrain_study import with_convs
    from emodarts_nb.genotypes import DARTS_V2
    full = with_convs(DARTS_V2, "conv_3x3")
    ops = lambda g, c: [op for node in getattr(g, c) for op, _ in node]
    for c in ("normal", "reduce"):
        assert [("conv_3x3" if "conv" in a else a) for a in ops(DARTS_V2, c)] == ops(full, c)
        assert [j for n in getattr(full, c) for _, j in n] == [j for n in getattr(DARTS_V2, c) for _, j in n]
    assert ops(full, "normal").count("conv_3x3") == 6 and with_convs(DARTS_V2, "drawn") is DARTS_V2


def test_search_study_puts_the_conv_in_the_space_and_refuses_bad_values(capsys):
    "convs=OP: the preset's separable and dilated convolutions become one OP in the searched space; bad --vary is refused."
    sys.path.insert(0, str(ROOT / "bench"))
    from search_study import main, search_overrides
    from emodarts_nb.config import get_config
    assert search_overrides("convs", "preset") == {} and search_overrides("beta_darts", 0.0) == {"beta_darts": 0.0}
    assert search_overrides("valid_speakers", 2) == {}                    # a keyword of the protocol, not of the search
    ops = search_overrides("convs", "conv_3x3")["space"]["cnn_ops"]
    assert ops == ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "conv_3x3", "none"]
    assert get_config("cpu", space=dict(cnn_ops=ops)).space.cnn_ops == tuple(ops)
    for argv, says in ((["--vary", "convs"], "write a field and its values"),
                       (["--vary", "convs=preset,conv_9x9"], "convs=conv_9x9: not a CNN operation"),
                       (["--vary", "convs=preset", "--seeds", "0,x"], "seed 'x': must be a whole number")):
        with pytest.raises(SystemExit):
            main(["--folds", "0", *argv])
        assert says in capsys.readouterr().err


def test_search_study_runs_searched_jobs_an_experiment_reads_back(emodb_subset, tmp_path):
    """One fold of the search study (loso_dev) with the tiny presets on a subset of EmoDB: a row per setting, each from the
    searched job in an experiment folder of its own, whose genotype holds the setting's operations (and --set's
    selection); bench/perturbation_speed.py on that search; bench/derive_study.py on those searches."""
    import pandas as pd
    r = forked.run([sys.executable, "bench/search_study.py", "--folds", "0", "--vary", "convs=preset,conv_3x3",
                    "--set", "select=perturbation", "--protocol", "loso_dev",
                    "--emodb", str(emodb_subset), "--search-preset", "tiny", "--train-preset", "tiny", "--epochs",
                    "1", "--max-steps", "2", "--out", str(tmp_path / "s"), "--results", str(tmp_path / "s.csv")],
                   cwd=ROOT, env=ENV, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    d = pd.read_csv(tmp_path / "s.csv", comment="#")
    assert d.convs.tolist() == ["preset", "conv_3x3"] and d.valid_ua.between(0, 1).all(), d
    assert d.seed.tolist() == [0, 0] and d.supernet_valid_acc.between(0, 1).all(), d  # --seeds' default: one run a fold
    assert "test_ua is the judge's" in (tmp_path / "s.csv").read_text().splitlines()[1]  # loso_dev: its test part judges
    # --finished runs nothing: the finished job is read back, the other named and left out
    rf = forked.run([sys.executable, "bench/search_study.py", "--folds", "0", "--vary", "convs=preset,sep_conv_5x5",
                     "--set", "select=perturbation", "--protocol", "loso_dev", "--finished", "--emodb", str(emodb_subset),
                     "--search-preset", "tiny", "--train-preset", "tiny", "--epochs", "1", "--max-steps", "2",
                     "--out", str(tmp_path / "s"), "--results", str(tmp_path / "f.csv")], cwd=ROOT, env=ENV, timeout=600)
    assert rf.returncode == 0, rf.stderr[-3000:]
    assert "not finished, left out: fold 0, seed 0, convs=sep_conv_5x5" in rf.stdout, rf.stdout
    f = pd.read_csv(tmp_path / "f.csv", comment="#")
    assert f.convs.tolist() == ["preset"] and f.test_ua.tolist() == d.test_ua[:1].tolist(), f
    assert not (tmp_path / "s" / "convssep_conv_5x5").exists()
    assert d.seq_trained.between(0, 4).all() and "chosen on validation speakers" in r.stdout
    [path] = (tmp_path / "s" / "convsconv_3x3" / "searched").glob("*/seed0/search/config.json")
    cfg = json.loads(path.read_text())
    assert "conv_3x3" in cfg["space"]["cnn_ops"] and "sep_conv_3x3" not in cfg["space"]["cnn_ops"]
    assert cfg["select"] == "perturbation" and (path.parent / "perturbation.csv").is_file()
    fold = json.loads((path.parent / "fold.json").read_text())                  # loso_dev: fold 03 tests on speaker 08
    assert fold["protocol"] == "loso_dev" and {u[:2] for u in fold["test"]} == {"08"}
    assert not {u[:2] for u in fold["train"] + fold["valid"]} & {"03", "08"}
    # --vary valid_speakers: the protocol's keyword; the fold of each value validates on that many speakers, the first
    # of them the one-speaker fold's, and tests on the same speaker
    rv = forked.run([sys.executable, "bench/search_study.py", "--folds", "0", "--vary", "valid_speakers=2", "--protocol",
                     "loso_dev", "--emodb", str(emodb_subset), "--search-preset", "tiny", "--train-preset", "tiny",
                     "--epochs", "1", "--max-steps", "1", "--out", str(tmp_path / "v"),
                     "--results", str(tmp_path / "v.csv")],
                    cwd=ROOT, env=ENV, timeout=600)
    assert rv.returncode == 0, rv.stderr[-3000:]
    assert "only test_ua compares across values" in rv.stdout
    assert pd.read_csv(tmp_path / "v.csv", comment="#").valid_speakers.tolist() == [2]
    [two] = (tmp_path / "v" / "valid_speakers2" / "searched").glob("*/seed0/search/fold.json")
    two = json.loads(two.read_text())
    assert len({u[:2] for u in two["valid"]}) == 2 and {u[:2] for u in fold["valid"]} < {u[:2] for u in two["valid"]}
    assert two["test"] == fold["test"] and not set(two["train"]) & set(two["valid"])
    bad = forked.run([sys.executable, "bench/search_study.py", "--folds", "0", "--vary", "valid_speakers=1,-1",
                      "--emodb", str(emodb_subset), "--out", str(tmp_path / "b")], cwd=ROOT, env=ENV, timeout=600)
    assert bad.returncode == 2 and "valid_speakers=-1: is neither" in bad.stderr, bad.stderr
    assert not (tmp_path / "b").exists()
    # bench/perturbation_speed.py times the perturbation selection on that search's supernet, both ways
    r = forked.run([sys.executable, "bench/perturbation_speed.py", "--run", str(path.parent), "--emodb",
                    str(emodb_subset), "--repeats", "1", "--batch-sizes", "2"], cwd=ROOT, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "ratio whole / kept" in r.stdout and "largest score difference 0.00e+00" in r.stdout, r.stdout
    assert "states kept, batch 2: median" in r.stdout and "ratio to batch 64" in r.stdout, r.stdout   # --batch-sizes
    # bench/derive_study.py: the search's own caps read its own retraining back; other caps retrain what they derive
    r = forked.run([sys.executable, "bench/derive_study.py", "--searches", str(tmp_path / "s" / "convspreset"),
                    "--vary", "min_param=none,4", "--emodb", str(emodb_subset), "--out", str(tmp_path / "d"),
                    "--results", str(tmp_path / "d.csv")], cwd=ROOT, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    d = pd.read_csv(tmp_path / "d.csv", comment="#", keep_default_na=False)
    own = pd.read_csv(tmp_path / "s.csv", comment="#").set_index("convs").loc["preset"]
    assert d.retrained.tolist() == [False, True], d                 # the tiny preset has no min_param: none is its own
    assert d.valid_ua[0] == own.valid_ua and d.genotype[0] == own.genotype
    assert d.genotype[1] != own.genotype and d.seq_trained[1] == 4   # 4 of the tiny cell's 4 edges keep weights
    [m4] = (tmp_path / "d").glob("min_param4/*/seed0/fold.json")         # retrained on the job's own loso_dev fold
    assert json.loads(m4.read_text())["test"] == fold["test"], "the retraining of min_param=4"


def test_derive_study_refuses_what_is_not_a_derivation_setting(capsys, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from derive_study import main
    for argv, says in ((["--vary", "seed=1,2"], "write a derivation setting (select, k, max_skip, min_param, max_param)"),
                       (["--vary", "min_param"], "write a derivation setting"),
                       (["--vary", "min_param=2,4"], "no searched/<fold>/seed<seed> job folders")):
        with pytest.raises(SystemExit):
            main(["--searches", str(tmp_path), *argv])
        assert says in capsys.readouterr().err
    (tmp_path / "searched" / "03" / "seed0").mkdir(parents=True)
    with pytest.raises(SystemExit):                                   # one (fold, seed) from two folders
        main(["--searches", str(tmp_path), str(tmp_path), "--vary", "min_param=2,4"])
    assert "the same fold and seed in two folders" in capsys.readouterr().err


def _study(path, rows, header="fold,C,params,valid_ua,test_ua"):
    path.write_text("# command: made by the test\n# a note\n" + header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def test_selection_signal_counts_pairs_the_validation_orders_as_the_test_does(tmp_path):
    "bench/selection_signal.py: agree is 1 where validation and test order every pair alike, 0 where reversed, and"
    " pairs are formed within a fold (and a seed, unless the seed is what varies), never across."
    sys.path.insert(0, str(ROOT / "bench"))
    import pandas as pd
    from selection_signal import pairs, read_studies, read_study, summary, table
    alike = _study(tmp_path / "alike_study.csv", [(0, 8, 1, 0.70, 0.60), (0, 16, 2, 0.80, 0.65), (0, 32, 3, 0.90, 0.80),
                                                   (1, 8, 1, 0.50, 0.70), (1, 16, 2, 0.60, 0.75)])
    s = summary(list(pairs(read_study(alike))))
    assert s["n"] == 4 and s["agree"] == 1.0 and s["gain"] == s["stake"] == 11.25           # (5 + 20 + 15 + 5) / 4
    flipped = pd.read_csv(alike, comment="#").assign(valid_ua=lambda d: -d.valid_ua)
    s = summary(list(pairs(flipped)))
    assert s["agree"] == 0.0 and s["gain"] == -11.25
    tie = pd.DataFrame(dict(fold=[0, 0, 0], C=[8, 16, 32], valid_ua=[0.7, 0.7, 0.8], test_ua=[0.6, 0.5, 0.6]))
    assert summary(list(pairs(tie))) == dict(n=2, agree=0.75, gain=5.0, stake=5.0)  # a validation tie: no pair; a test tie: a half
    seeds = _study(tmp_path / "s_study.csv", [(0, 0, 8, 0.7, 0.6), (0, 0, 16, 0.8, 0.7), (0, 1, 8, 0.9, 0.5), (0, 1, 16, 0.6, 0.9)],
                   header="fold,seed,C,valid_ua,test_ua")
    assert len(list(pairs(read_study(seeds)))) == 2                                 # within seed 0 and within seed 1
    only_seed = _study(tmp_path / "seed_study.csv", [(0, 0, 0.7, 0.6), (0, 1, 0.8, 0.7), (0, 2, 0.9, 0.5)],
                       header="fold,seed,valid_ua,test_ua")
    assert len(list(pairs(read_study(only_seed)))) == 3                             # the seed varies: pairs across seeds
    averaged = _study(tmp_path / "ensemble_study.csv", [(0, 0.7, 0.6, 0.8, 0.7)], header="fold,valid_ua_members,valid_ua,test_ua_members,test_ua")
    other = _study(tmp_path / "vs_study.csv", [(0, 1, 0.7, 0.6), (0, 2, 0.8, 0.5)],
                   header="fold,valid_speakers,valid_ua,test_ua")
    studies = read_studies([alike, seeds, only_seed, averaged, other])
    assert list(studies) == ["alike_study", "s_study", "seed_study"]   # a row averaging runs is no run; other validators
    rows = {(r["study"], r["judge"]): r for r in table(studies)}
    assert rows[("all studies", "valid_ua")]["n"] == 4 + 2 + 3 and rows[("all but the seed study", "valid_ua")]["n"] == 6
    bad = _study(tmp_path / "bad_study.csv", [(0, 8, 0.7)], header="fold,C,valid_ua")
    with pytest.raises(SystemExit, match="bad_study.csv: no column test_ua"): read_study(bad)


def test_selection_signal_file_is_what_the_committed_studies_give(capsys):
    "bench/results/selection_signal.txt (quoted on the EmoDB results page) is the script's output on the committed studies."
    sys.path.insert(0, str(ROOT / "bench"))
    from selection_signal import main
    main([])
    assert capsys.readouterr().out == (ROOT / "bench" / "results" / "selection_signal.txt").read_text()


def test_results_page_quotes_the_selection_signal():
    "The EmoDB results page's figures on how well one validation speaker chooses, and the README's, are the committed studies'."
    sys.path.insert(0, str(ROOT / "bench"))
    from selection_signal import by_stake, read_studies, table
    page = _markdown("explanations/emodb_results.ipynb")
    studies = read_studies(sorted((ROOT / "bench" / "results").glob("*_study.csv")))
    rows = {(r["study"], r["judge"]): r for r in table(studies)}
    pct = lambda r: f"{100 * r['agree']:.1f} %"
    pooled, seed, end = rows[("all but the seed study", "valid_ua")], rows[("seed", "valid_ua")], rows[("all studies", "valid_ua_end")]
    said = [f"Over the studies' {pooled['n']} such pairs (the seed study aside) it is in {pct(pooled)} of them",
            f"gains {pooled['gain']:.1f} test UA points on average, of the {pooled['stake']:.1f} points",
            f"gives {pct(seed)} of {seed['n']} pairs", f"({pct(end)} of {end['n']} pairs)"]
    bands = by_stake(studies)
    said += [f"{pct(b)} of {b['n']}" for b in bands]
    assert [s for s in said if s not in page] == []
    readme = " ".join((ROOT / "README.md").read_text().split())            # its summary of the same figures
    two_to_five = next(b for b in bands if b["band"] == "2-5")
    said = [f"of {pooled['n']} pairs of networks", f"it ordered {pct(pooled)} as the test speaker did",
            f"no better than a coin ({pct(two_to_five)};"]
    assert [s for s in said if s not in readme] == []



def test_readme_quotes_the_longer_search_and_two_validators_studies():
    "The README's paragraphs on the 32-epoch search and on two validation speakers quote their studies' files."
    import pandas as pd
    from emodarts_nb.experiment import sign_flip_p
    runs = pd.read_csv(ROOT / "bench" / "results" / "search_epochs_dev_study.csv", comment="#")
    wide = runs.pivot_table(index=["fold", "seed"], columns="epochs", values=["test_ua", "supernet_valid_acc"])
    judge, d = wide["test_ua"], wide["test_ua"][32] - wide["test_ua"][8]
    pct = lambda x: f"{100 * x:.1f}"
    per_seed = {s: f"{100 * d.xs(s, level='seed').mean():+.1f}".replace("-", "−") for s in (30, 31)}
    median = runs.groupby("epochs").search_s.median().round().astype(int)
    seq = runs[runs.epochs == 32].genotype.str.split(" | ", regex=False).str[2]
    assert seq.str.contains("lstm_att_1×").all() and not seq.str.contains("gru_").any()  # "kept the LSTM with attention"
    said = [f"classifies {pct(wide['supernet_valid_acc'][8].mean())} % of the validation segments",
            f"Searched for 32 epochs instead ({pct(wide['supernet_valid_acc'][32].mean())} %)",
            f"scored {pct(judge[32].mean())} UA on the *judge*", f"against {pct(judge[8].mean())} for 8-epoch searches",
            f"over the {len(d)} runs of the rule fixed beforehand, {(d > 0).sum()} higher and {(d < 0).sum()} lower "
            f"(p = {sign_flip_p(d.to_numpy()):.2f})",
            f"{per_seed[30]} points on seed 30 and {per_seed[31]} on seed 31",
            f"({median[32]} s against {median[8]} s, medians)"]
    two = pd.read_csv(ROOT / "bench" / "results" / "valid_speakers_dev_study.csv", comment="#")  # and two validators'
    judge = two.pivot_table(index=["fold", "seed"], columns="valid_speakers", values="test_ua")
    d = judge[2] - judge[1]
    said += [f"scored {pct(judge[2].mean())} UA against {pct(judge[1].mean())} ({len(d)} runs: {(d > 0).sum()} higher, "
             f"{(d < 0).sum()} lower, p = {sign_flip_p(d.to_numpy()):.2f})"]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert [s for s in said if s not in readme] == []

def test_ensemble_study_averages_retrainings_it_checks_against_their_own_metrics(tmp_path):
    "bench/ensemble_study.py: the members evaluated again give their own recorded UA (else the study stops, naming the"
    " run); a run averaged with itself is that run; members of different folds are refused."
    sys.path.insert(0, str(ROOT / "bench"))
    import numpy as np
    from ensemble_study import fold_row
    from emodarts_nb.config import get_train_config
    from emodarts_nb.core import load_json, save_json
    from emodarts_nb.synthetic import make_synthetic
    from emodarts_nb.train import retrain
    corpus = make_synthetic(tmp_path / "corpus", n_speakers=4, n_per_class=2, classes=("neutral", "angry"), seconds=0.5)
    def run(seed, fold=0):
        cfg = get_train_config("tiny", seed=seed, epochs=1, cache_dir=str(tmp_path / "cache"))
        return retrain("baseline", cfg, corpus, fold, tmp_path / f"f{fold}s{seed}", progress=False).run_dir
    runs = [run(0), run(1)]
    own = [load_json(r / "metrics.json") for r in runs]
    row = fold_row(runs, corpus, 0)
    assert row["members"] == 2
    for part in ("valid", "test"):
        assert row[f"{part}_ua_members"] == pytest.approx(np.mean([m[part]["ua"] for m in own]))
        assert 0 <= row[f"{part}_ua"] <= 1
    same = fold_row([runs[0], runs[0]], corpus, 0)
    assert (same["valid_ua"], same["test_ua"]) == (own[0]["valid"]["ua"], own[0]["test"]["ua"])
    with pytest.raises(SystemExit, match="a retraining of fold .* not of fold 0"): fold_row([runs[0], run(0, fold=1)], corpus, 0)
    own[1]["valid"]["ua"] += 0.25                                           # as if the data had changed since
    save_json(own[1], runs[1] / "metrics.json")
    with pytest.raises(SystemExit, match=f"{runs[1]}: its valid UA is .* in its metrics.json"): fold_row(runs, corpus, 0)


def test_ensemble_study_refuses_members_it_cannot_average(capsys, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from ensemble_study import main
    for members, says in ((["a/f{fold}"], "two or more"), (["a/f{fold}", "b/f0"], "write {fold} where")):
        with pytest.raises(SystemExit) as e: main(["--folds", "0", "--name", "x", "--results", str(tmp_path / "r.csv"), "--members", *members])
        assert e.value.code == 2 and says in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_ensemble_study_results_keep_other_names_rows_and_commands(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from ensemble_study import write_results
    out = tmp_path / "r.csv"
    row = lambda n, f, v: dict(name=n, fold=f, members=3, valid_ua_members=v, valid_ua=v, test_ua_members=v, test_ua=v)
    write_results(out, "a", "cmd a", [row("a", 0, 0.5), row("a", 1, 0.6)])
    write_results(out, "b", "cmd b", [row("b", 0, 0.7)])
    df = write_results(out, "a", "cmd a2", [row("a", 0, 0.9)])                 # a again: its rows and command replaced
    text = out.read_text()
    assert "# command a: cmd a2\n" in text and "# command b: cmd b\n" in text and "cmd a\n" not in text
    assert sorted(zip(df.name, df.fold, df.test_ua)) == [("a", 0, 0.9), ("b", 0, 0.7)]


def test_members_study_and_seed_sets_read_an_experiment_of_ensembles(tmp_path, capsys):
    "bench/members_study.py on a real (tiny) experiment run with members=2: its first member is the job's own member 0"
    " run, the ensemble's UA is the job's; a folder without such jobs is refused by name. bench/seed_sets.py pairs the"
    " jobs with single runs of other seeds and recomputes each UA from the predictions files."
    sys.path.insert(0, str(ROOT / "bench"))
    from members_study import main, read_jobs
    from emodarts_nb.core import load_json
    from emodarts_nb.experiment import run_experiment
    from emodarts_nb.synthetic import make_synthetic
    corpus = make_synthetic(tmp_path / "corpus", n_speakers=4, n_per_class=2, classes=("neutral", "angry"), seconds=0.5)
    run_experiment(corpus, "loso", "baseline", folds="0,1", seeds="0,1", out=tmp_path / "e", cache_dir=str(tmp_path / "cache"),
                   progress=False, train_preset="tiny", train_overrides=dict(epochs=1, members=2))
    rows = read_jobs(tmp_path / "e")
    assert len({r["fold"] for r in rows}) == 2 and sorted(r["seed"] for r in rows) == [0, 0, 1, 1]
    assert all(r["members"] == 2 for r in rows)
    for r in rows:
        train = tmp_path / "e" / "baseline" / r["fold"] / f"seed{r['seed']}" / "train"
        first, ens = load_json(train / "members" / "0" / "metrics.json"), load_json(train / "metrics.json")
        assert (r["valid_ua_first"], r["test_ua_first"]) == (first["valid"]["ua"], first["test"]["ua"])
        assert (r["valid_ua"], r["test_ua"]) == (ens["valid"]["ua"], ens["test"]["ua"])
        assert load_json(train / "members" / "0" / "config.json")["seed"] == r["seed"]
    main([str(tmp_path / "e"), "--results", str(tmp_path / "m.csv")])
    out = capsys.readouterr().out
    assert "baseline, test: ensemble" in out and "of 4, p = " in out and (tmp_path / "m.csv").read_text().startswith("# command:")
    with pytest.raises(SystemExit, match="no finished retraining with members"): read_jobs(tmp_path / "corpus")
    # bench/seed_sets.py: the same jobs beside single networks of seeds 2 and 3 (paired with 0 and 1)
    from seed_sets import read_sets, summary, test_probs, ua_of
    run_experiment(corpus, "loso", "baseline", folds="0,1", seeds="2,3", out=tmp_path / "s", cache_dir=str(tmp_path / "cache"),
                   progress=False, train_preset="tiny", train_overrides=dict(epochs=1))
    sets = read_sets(tmp_path / "e", tmp_path / "s")
    assert sorted((r["seed"], r["single_seed"]) for r in sets) == [(0, 2), (0, 2), (1, 3), (1, 3)]
    for r in sets:
        job, single = tmp_path / "e" / "baseline" / r["fold"] / f"seed{r['seed']}", tmp_path / "s" / "baseline" / r["fold"]
        assert r["member1"] == load_json(job / "train" / "members" / "1" / "metrics.json")["test"]["ua"]
        assert r["single"] == load_json(single / f"seed{r['single_seed']}" / "train" / "metrics.json")["test"]["ua"]
        assert r["ensemble"] == load_json(job / "train" / "metrics.json")["test"]["ua"]
        assert r["fresh"] == ua_of([test_probs(job / "train" / "members" / "1"), test_probs(single / f"seed{r['single_seed']}" / "train")])
    assert summary(sets)[0].startswith("baseline, 4 jobs, test UA by seed set: member0 ")
    for d in (tmp_path / "s" / "baseline").glob("*/seed3"): shutil.rmtree(d)
    with pytest.raises(SystemExit, match=r"holds seeds \[2\], not one for each of"): read_sets(tmp_path / "e", tmp_path / "s")


def test_ops_page_quotes_the_relu_grids_retraining_run():
    "The ops page's figure for ReluGrids is what bench/results/retrain_speed_relu_grids.txt holds (old / new step time)."
    rows = _json_lines((ROOT / "bench" / "results" / "retrain_speed_relu_grids.txt").read_text())
    step = {r["model"]: r["step_s"] for r in rows}
    ratios = [step[f"{k}_before"] / step[k] for k in step if k.startswith("searched") and not k.endswith("_before")]
    assert len(ratios) == 10
    page = _markdown("api/10_ops.ipynb")
    said = (f"ran {statistics.median(ratios):.2f} times faster at the median ({min(ratios):.2f} to {max(ratios):.2f}; "
            f"{sum(r > 1 for r in ratios)} of 10 faster)")
    assert said in page, said


def _random_job(folder, seed, fold, valid_acc, test_ua, done=True):
    "A random-search job as an experiment writes it: its candidates' history.csv and its winner's retraining metrics."
    job = folder / "random" / fold / f"seed{seed}"
    (job / "search").mkdir(parents=True)
    (job / "search" / "history.csv").write_text("candidate,train_loss,train_acc,valid_loss,valid_acc,seconds\n" + "".join(
        f"{i},1.0,0.5,{2 - a},{a},1.0\n" for i, a in enumerate(valid_acc)))
    if done:
        (job / "train").mkdir()
        (job / "train" / "metrics.json").write_text(json.dumps(dict(test=dict(ua=test_ua))))


def test_candidate_scores_finds_the_winners_before_and_after(tmp_path, capsys):
    "bench/candidate_scores.py: the winner is the first of the best valid accuracies; ties and changed winners are"
    " counted, the winners' test UAs paired; a search on one side only, or an unfinished retraining, stops it."
    sys.path.insert(0, str(ROOT / "bench"))
    import pandas as pd
    from candidate_scores import main, searches
    before, after = tmp_path / "before", tmp_path / "after"
    _random_job(before, 8, "03", [0.2, 0.2, 0.2], 0.70)                 # every candidate alike: candidate 0 wins
    _random_job(before, 8, "08", [0.3, 0.5, 0.5], 0.60)                 # a tie at the top: the first of them, 1
    _random_job(after, 8, "03", [0.4, 0.6, 0.5], 0.80)                  # now 1 wins
    _random_job(after, 8, "08", [0.3, 0.6, 0.5], 0.60)                  # still 1
    rows = pd.DataFrame(main(["--before", str(before), "--after", str(after), "--results", str(tmp_path / "c.csv")]))
    out = capsys.readouterr().out
    assert rows[rows.won_before].candidate.tolist() == [0, 1] and rows[rows.won_after].candidate.tolist() == [1, 1]
    assert rows.test_ua_before.notna().sum() == 2 and rows.loc[rows.won_after, "test_ua_after"].tolist() == [0.8, 0.6]
    assert "before: 1 of 2 searches scored every candidate alike" in out and "after: 0 of 2 searches" in out
    assert "candidate 0 won 1 times" in out and "the winner changed in 1 of 2 searches" in out
    assert "before 65.0, after 70.0; after - before: +5.0, 1/1/0 of 2" in out
    assert pd.read_csv(tmp_path / "c.csv", comment="#").shape == (6, 11)
    _random_job(after, 9, "03", [0.5, 0.4], 0.7)
    with pytest.raises(SystemExit, match="seed 9, fold 03: run on one side only"):
        main(["--before", str(before), "--after", str(after), "--results", str(tmp_path / "c.csv")])
    _random_job(tmp_path / "open", 8, "03", [0.5], None, done=False)
    with pytest.raises(SystemExit, match="its winner's retraining has not finished"): searches([tmp_path / "open"])
