"""What `--set members=k` (an ensemble of k seeds' networks, posteriors averaged) did in an experiment's jobs, against
the single network each job would have trained without it: its first member, whose seed is the job's.

    OMP_NUM_THREADS=1 emodarts experiment --corpus emodb ../shared/data/emodb --methods baseline --seeds 0,1,2 \
        --train-set members=3 --out runs/ens_base --ray --workers 2
    .venv/bin/python bench/members_study.py runs/ens_base --results bench/results/members_study.csv

Reads each finished job's retraining (`<method>/<fold>/seed<s>/train/metrics.json`, which keeps every member's seed,
selected epoch and UAs); trains nothing. Rows: method, fold, seed, the first member's UA, the members' mean UA and the
ensemble's, on the validation speaker (which chose each member's epoch) and on the test speaker (reported only), and
each member's UA (`_each`, in member order). Prints, per method and part, each member position's mean UA with the
first member against each other one, then the ensemble against the first member and against the members' mean,
paired over (fold, seed): mean difference, won/tied/lost, sign-flip p. Asserts nothing.
"""
from __future__ import annotations
import argparse, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import command_line, paired, write_rows  # noqa: E402

PARTS = ("valid", "test")


def job_row(metrics: dict, method: str, fold: str, seed: int) -> dict:
    "One row from an ensemble retraining's metrics.json: first member, members' mean and ensemble UA, valid and test."
    import numpy as np
    m = metrics["members"]
    row = dict(method=method, fold=fold, seed=seed, members=len(m))
    for p in PARTS:
        row.update({f"{p}_ua_first": m[0][f"{p}_ua"], f"{p}_ua_members": float(np.mean([r[f"{p}_ua"] for r in m])),
                    f"{p}_ua": metrics[p]["ua"], f"{p}_ua_each": " ".join(f"{r[f'{p}_ua']:.6f}" for r in m)})
    return row


def read_jobs(out: Path) -> list[dict]:
    "The rows of every finished ensemble job under the experiment folder `out`; a folder with none is an error."
    from emodarts_nb.core import load_json
    rows = []
    for f in sorted(out.glob("*/*/seed*/train/metrics.json")):
        m, job = load_json(f), f.parents[1]
        if "members" in m: rows.append(job_row(m, job.parents[1].name, job.parent.name, int(job.name[4:])))
    if not rows: raise SystemExit(f"{out}: no finished retraining with members (--train-set members=k) under it")
    return rows


def comparisons(rows: list[dict]) -> list[str]:
    "Per method and part: each member position's mean, then the ensemble against its first member and its members' mean."
    import numpy as np, pandas as pd
    df, lines = pd.DataFrame(rows), []
    for method, g in df.groupby("method", sort=False):
        for p in PARTS:
            each = 100 * np.array([[float(v) for v in s.split()] for s in g[f"{p}_ua_each"]])   # (jobs, members)
            lines.append(f"{method}, {p}: member by member (seed: the job's + 1000 k) "
                         + ", ".join(f"{v:.1f}" for v in each.mean(0)) + "; the first against each other: "
                         + ", ".join(paired(each[:, 0] - each[:, k], short=True) for k in range(1, each.shape[1])))
            for ref, what in (("first", "the first member (the job's single network)"), ("members", "the members' mean")):
                lines.append(f"{method}, {p}: ensemble {100 * g[f'{p}_ua'].mean():.1f} against {what} "
                             f"{100 * g[f'{p}_ua_{ref}'].mean():.1f}; "
                             + paired(100 * (g[f"{p}_ua"] - g[f"{p}_ua_{ref}"])))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="an experiment folder (emodarts experiment --out) run with --train-set members=k")
    ap.add_argument("--results", type=Path, default=None, help="write the rows here (CSV, the command on top)")
    a = ap.parse_args(argv)
    command = command_line("members_study.py", argv)
    rows = read_jobs(a.out)
    for line in comparisons(rows): print(line)
    if a.results: write_rows(a.results, command, "UA fractions; first: the member whose seed is the job's", rows)


if __name__ == "__main__":
    main()
