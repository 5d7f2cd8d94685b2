"""How well one validation speaker chooses between two networks: in every committed EmoDB study, each pair of runs
of the same fold (and seed), ordered by validation UA and by test UA: how often the two orders agree.

    .venv/bin/python bench/selection_signal.py > bench/results/selection_signal.txt

Every choice in this project (the search's genotype, the epoch a retraining keeps, each study's setting) is made on
the fold's validation speaker: 35 to 61 utterances. This reads the studies' results files (bench/results/*_study.csv:
one row per fold, setting and, where varied, seed; `valid_ua` of the selected epoch, `valid_ua_end` of the last
epochs where recorded, and `test_ua`, the fold's test speaker's, never used to choose) and, for every pair of rows of
the same fold (and the same seed, unless the seed is what the study varies) whose validation UAs differ, asks whether
the one higher on validation is also higher on test. `agree` is the share of such pairs (0.5 is a coin; a tie on test
counts a half); `gain` is the mean test UA (points) of the validation's pick minus the other's, beside `stake`, the
mean test difference between the two whichever is picked: a perfect judge would gain the whole stake. The seed study
(the same genotype retrained with three seeds) is the floor: its pairs differ by chance alone. Pairs of one study
share runs and some runs appear in several studies, so the pairs are not independent draws: the figures describe,
they test nothing. Files whose rows average several runs (bench/ensemble_study.py's), and those whose setting
changes which speakers validate (`valid_speakers`: their validation UAs are not one speaker's), are not read. Needs
no data and no torch (pandas only); asserts nothing.
"""
from __future__ import annotations
import argparse, itertools, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# columns that are measured, not set: a pair differs in the other columns (the study's setting) or only by chance
MEASURED = {"valid_ua", "valid_ua_end", "test_ua", "params", "seconds", "train_s", "search_s", "select_s", "genotype",
            "seq_trained", "retrained", "supernet_valid_acc"}
JUDGES = ("valid_ua", "valid_ua_end")
AVERAGED = "valid_ua_members"   # a column of files whose rows are not one run each (ensembles), which are not read
OTHER_VALIDATION = {"valid_speakers"}  # settings that change the validation part itself: such files are not read


def setting_columns(df) -> list[str]:
    "The columns a study varies or holds (all but the fold and what is measured)."
    return [c for c in df.columns if c != "fold" and c not in MEASURED and "+" not in c]  # a+b: a label of a and b


def pairs(df, judge: str = "valid_ua"):
    "(validation difference, test difference) of every pair of rows of one fold, and of one seed unless the seed is the setting."
    by = ["fold"] + (["seed"] if "seed" in df.columns and len(setting_columns(df)) > 1 else [])
    for _, g in df.dropna(subset=[judge, "test_ua"]).groupby(by):
        for (_, a), (_, b) in itertools.combinations(g.iterrows(), 2):
            dv, dt = a[judge] - b[judge], a.test_ua - b.test_ua
            if dv != 0: yield dv, dt


def summary(ps) -> dict:
    "Of (validation difference, test difference) pairs: n, agree (share ordered alike, a test tie a half), gain and stake in UA points."
    if not ps: return dict(n=0, agree=float("nan"), gain=float("nan"), stake=float("nan"))
    agree = sum(1.0 if dv * dt > 0 else 0.5 if dt == 0 else 0.0 for dv, dt in ps) / len(ps)
    gain = 100 * sum(dt if dv > 0 else -dt for dv, dt in ps) / len(ps)
    stake = 100 * sum(abs(dt) for _, dt in ps) / len(ps)
    return dict(n=len(ps), agree=round(agree, 3), gain=round(gain, 2), stake=round(stake, 2))


def read_study(path):
    import pandas as pd
    df = pd.read_csv(path, comment="#")
    missing = {"fold", "valid_ua", "test_ua"} - set(df.columns)
    if missing: raise SystemExit(f"{path}: no column {', '.join(sorted(missing))}: not a study's results file "
                                 "(bench/*_study.py writes fold, the setting, valid_ua and test_ua)")
    return df


def read_studies(paths) -> dict:
    """{file stem: table} of the study files among `paths`, each read once; files whose rows average several runs, or
    whose setting changes the validation speakers, left out."""
    dfs = {Path(p).stem: read_study(p) for p in paths}
    return {n: df for n, df in dfs.items()                                  # bench/ensemble_study.py's: not runs
            if AVERAGED not in df.columns and not OTHER_VALIDATION & set(df.columns)}


def table(studies: dict) -> list[dict]:
    "One row per study and judge, then the pooled rows: every study, and every study but the seed study."
    rows, pooled = [], {j: {} for j in JUDGES}
    for name, df in studies.items():
        for judge in JUDGES:
            ps = list(pairs(df, judge)) if judge in df.columns else []
            if not ps: continue
            rows.append(dict(study=name.removesuffix("_study"), varies="+".join(setting_columns(df)) or "-",
                             judge=judge, **summary(ps)))
            pooled[judge][name] = ps
    for judge, by_study in pooled.items():
        rows.append(dict(study="all studies", varies="", judge=judge, **summary([pr for prs in by_study.values() for pr in prs])))
        if "seed_study" in by_study:
            rows.append(dict(study="all but the seed study", varies="", judge=judge,
                             **summary([pr for n, prs in by_study.items() if n != "seed_study" for pr in prs])))
    return rows


BANDS = (0, 2, 5, 10, 100)   # |test UA difference| in points


def by_stake(studies: dict, judge: str = "valid_ua") -> list[dict]:
    "The pooled pairs (every study but the seed study) by how far apart their test UAs are: agree per band."
    ps = [pr for n, df in studies.items() if n != "seed_study" for pr in pairs(df, judge)]
    return [dict(band=f"{lo}-{hi}" if hi < 100 else f">={lo}", **summary([(dv, dt) for dv, dt in ps if lo <= 100 * abs(dt) < hi]))
            for lo, hi in zip(BANDS, BANDS[1:])]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", default=(here := str(ROOT / "bench" / "results")), help="folder of the studies' *_study.csv files")
    a = p.parse_args(argv)
    paths = sorted(Path(a.results).glob("*_study.csv"))
    if not paths: p.error(f"--results {a.results}: no *_study.csv in it")
    studies = read_studies(paths)
    rows = table(studies)
    print("# reproduce: .venv/bin/python bench/selection_signal.py" + (f" --results {a.results}" if Path(a.results).resolve() != Path(here) else ""))
    print("# pairs of runs of one fold (and seed): agree = share ordered alike by the validation and the test speaker; "
          "gain = test UA points of the validation's pick minus the other's; stake = mean |test difference|")
    w = max(len(r["study"]) for r in rows)
    print(f"{'study':<{w}}  {'varies':<24} {'judge':<13} {'pairs':>5} {'agree':>6} {'gain':>6} {'stake':>6}")
    for r in rows:
        print(f"{r['study']:<{w}}  {r['varies']:<24} {r['judge']:<13} {r['n']:>5} {r['agree']:>6.3f} {r['gain']:>+6.2f} "
              f"{r['stake']:>6.2f}")
    print("\n# the pairs of every study but the seed study, by how far apart their test UAs are (points), judged on valid_ua")
    print(f"{'test difference':<16} {'pairs':>5} {'agree':>6}")
    for r in by_stake(studies): print(f"{r['band']:<16} {r['n']:>5} {r['agree']:>6.3f}")
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
