"""Seed sets of one method on the same folds: an experiment run with `--train-set members=k` (k networks per job) and
a second experiment of single networks with other seeds, read from their predictions files; nothing is trained.

    OMP_NUM_THREADS=1 emodarts experiment --corpus emodb ../shared/data/emodb --methods baseline --seeds 0,1,2 \
        --train-set members=3 --out runs/ens_base --ray --workers 2
    OMP_NUM_THREADS=1 emodarts experiment --corpus emodb ../shared/data/emodb --methods baseline --seeds 3,4,5 \
        --out runs/base345 --ray --workers 2
    .venv/bin/python bench/seed_sets.py runs/ens_base runs/base345 --results bench/results/seed_sets.csv

The single runs' seeds are paired with the members experiment's in sorted order (3 with 0, 4 with 1, 5 with 2).
Per (method, fold, seed): the test UA of each member (`member0`..), of the paired single run (`single`), of the
job's ensemble recomputed from its members' posteriors (`ensemble`; it must equal the job's own metrics.json, else
the study stops), and of a fresh ensemble (`fresh`): the members after the first with the single run, so that none
of its networks has a seed of the first set; and the validation UA of each member and of the single run (`valid_`,
from their metrics.json). Prints each set's mean test and validation UA, the first set against each other,
and the fresh ensemble against its members' mean (mean difference, won/tied/lost, sign-flip p). Asserts nothing.
"""
from __future__ import annotations
import argparse, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import command_line, paired, write_rows  # noqa: E402


def test_probs(run: Path) -> tuple:
    "(utterance ids, labels, (U, C) posteriors, class names) of a retraining's predictions.csv."
    import pandas as pd
    d = pd.read_csv(run / "predictions.csv")
    cols = [c for c in d if c.startswith("p_")]
    return d.utt.astype(str).to_numpy(), d.label.astype(str).to_numpy(), d[cols].to_numpy(), [c[2:] for c in cols]


def ua_of(runs: list[tuple]) -> float:
    "The UA of the mean posterior of `runs` (from `test_probs`, the same utterances in the same order)."
    import numpy as np
    from emodarts_nb.metrics import ua
    utts, labels, _, classes = runs[0]
    for r in runs[1:]:
        if not (list(r[0]) == list(utts) and r[3] == classes):
            raise SystemExit("two runs of one fold predicted other utterances or classes: not the same fold")
    y = np.array([classes.index(l) for l in labels])
    return float(ua(y, np.mean([r[2] for r in runs], 0).argmax(1)))


def job_row(job: Path, single: Path, method: str, fold: str, seed: int, single_seed: int) -> dict:
    "One (method, fold, seed): each member's, the single run's, the ensemble's and the fresh ensemble's test UA."
    from emodarts_nb.core import load_json
    train = job / "train"
    m = load_json(train / "metrics.json")
    k = len(m.get("members", []))
    if k < 2: raise SystemExit(f"{train}: not an ensemble's retraining (members=k with k >= 2)")
    P = [test_probs(train / "members" / str(i)) for i in range(k)]
    s = test_probs(single / "train")
    row = dict(method=method, fold=fold, seed=seed, single_seed=single_seed,
               **{f"member{i}": ua_of([p]) for i, p in enumerate(P)}, single=ua_of([s]), ensemble=ua_of(P),
               fresh=ua_of(P[1:] + [s]), **{f"valid_member{i}": r["valid_ua"] for i, r in enumerate(m["members"])},
               valid_single=load_json(single / "train" / "metrics.json")["valid"]["ua"])
    if abs(row["ensemble"] - m["test"]["ua"]) > 1e-9:
        raise SystemExit(f"{train}: its members' posteriors average to UA {row['ensemble']:.4f}, its metrics.json says "
                         f"{m['test']['ua']:.4f}: the run folder has been changed")
    return row


def read_sets(members: Path, singles: Path) -> list[dict]:
    "The rows of every job of the `members` experiment with its paired single run in `singles`."
    jobs = sorted(members.glob("*/*/seed*/train/metrics.json"))
    if not jobs: raise SystemExit(f"{members}: no finished job under it")
    seeds = sorted({int(j.parents[1].name[4:]) for j in jobs})
    single_seeds = sorted({int(j.parents[1].name[4:]) for j in singles.glob("*/*/seed*/train/metrics.json")})
    if len(single_seeds) != len(seeds):
        raise SystemExit(f"{singles}: holds seeds {single_seeds}, not one for each of {members}'s seeds {seeds}")
    pair, rows = dict(zip(seeds, single_seeds)), []
    for j in jobs:
        job, (method, fold, seed) = j.parents[1], (j.parents[3].name, j.parents[2].name, int(j.parents[1].name[4:]))
        single = singles / method / fold / f"seed{pair[seed]}"
        if not (single / "train" / "predictions.csv").exists():
            raise SystemExit(f"{single}: missing; run {singles}'s experiment to the end")
        rows.append(job_row(job, single, method, fold, seed, pair[seed]))
    return rows


def summary(rows: list[dict]) -> list[str]:
    "Each set's mean test UA, the first against each other set, the fresh ensemble against its members' mean."
    import pandas as pd
    df, lines = pd.DataFrame(rows), []
    sets = [c for c in df if c.startswith("member")] + ["single"]          # test UA columns; valid_<set>: validation
    for method, g in df.groupby("method", sort=False):
        x = 100 * g[sets].to_numpy()
        lines.append(f"{method}, {len(g)} jobs, test UA by seed set: " + ", ".join(
            f"{s} {v:.1f}" for s, v in zip(sets, x.mean(0))))
        lines.append(f"{method}, validation UA by seed set: " + ", ".join(
            f"{s} {100 * g[f'valid_{s}'].mean():.1f}" for s in sets))
        lines.append(f"{method}: member0 against " + ", ".join(
            f"{s} {paired(x[:, 0] - x[:, i], short=True)}" for i, s in enumerate(sets) if i))
        lines.append(f"{method}: fresh ensemble (no member0) {100 * g.fresh.mean():.1f} against its members' mean "
                     f"{x[:, 1:].mean():.1f}: {paired(100 * g.fresh.to_numpy() - x[:, 1:].mean(1))}; the job's "
                     f"ensemble {100 * g.ensemble.mean():.1f}")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("members", type=Path, help="an experiment folder run with --train-set members=k (k >= 2)")
    ap.add_argument("singles", type=Path, help="an experiment folder of single networks, as many other seeds")
    ap.add_argument("--results", type=Path, default=None, help="write the rows here (CSV, the command on top)")
    a = ap.parse_args(argv)
    command = command_line("seed_sets.py", argv)
    rows = read_sets(a.members, a.singles)
    for line in summary(rows): print(line)
    if a.results: write_rows(a.results, command, "test UA fractions", rows)


if __name__ == "__main__":
    main()
