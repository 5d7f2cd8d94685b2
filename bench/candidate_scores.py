"""How random search ranked its candidates before and after a change to how they are scored, from the run folders of
two EmoDB reports over the same seeds and folds (the candidates are the same genotypes: candidate i of a seed is drawn
from (seed, i) alone); trains nothing.

    .venv/bin/python bench/candidate_scores.py --before runs/report_s8 runs/report_s9 --after runs/rbn \
        --results bench/results/random_candidates_bn.csv

Each folder is an experiment folder (`emodarts experiment --out`, `bench/emodb_report.py --out`); its random-search
jobs are read from `random/<fold>/seed<s>/search/history.csv` (one row per candidate) and `.../train/metrics.json`
(the winner's retraining). Rows: seed, fold, candidate, and before/after each of the candidate's valid accuracy and
loss after its short training, whether it won its search, and the test UA of the winner's retraining (on the winner's
rows only). Prints, before and after: the searches whose candidates all scored the same valid accuracy, the median
number of distinct scores per search, the median candidate and winner valid accuracy, how often candidate 0 won
(the winner on a tie), then in how many searches the winner changed and the test UA of the winners' retrainings,
paired (sign-flip p). Asserts nothing.
"""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import command_line, paired, write_rows  # noqa: E402


def searches(folders) -> dict:
    "{(seed, fold): (candidates table, test UA of the winner's retraining)} over the random-search jobs of `folders`."
    import pandas as pd
    out = {}
    for folder in map(Path, folders):
        for h in sorted(folder.glob("random/*/seed*/search/history.csv")):
            job = h.parents[1]
            key = (int(job.name[len("seed"):]), job.parent.name)
            if key in out: raise SystemExit(f"{job}: seed {key[0]}, fold {key[1]} is given twice")
            if not (job / "train" / "metrics.json").is_file():
                raise SystemExit(f"{job}: its winner's retraining has not finished (no train/metrics.json): finish the report first")
            out[key] = (pd.read_csv(h), json.loads((job / "train" / "metrics.json").read_text())["test"]["ua"])
    if not out: raise SystemExit(f"{', '.join(map(str, folders))}: no random-search job (random/<fold>/seed<s>/search/history.csv)")
    return out


def winner(t) -> int:
    "The candidate random search keeps: the first of the best valid accuracies."
    return int(t.candidate[t.valid_acc.idxmax()])


def rows(before: dict, after: dict) -> list[dict]:
    "One row per (seed, fold, candidate) of the searches both sides ran."
    if missing := sorted(set(before) ^ set(after)):
        raise SystemExit(f"seed {missing[0][0]}, fold {missing[0][1]}: run on one side only; give the same seeds and folds")
    out = []
    for key in sorted(before):
        (b, b_ua), (a, a_ua) = before[key], after[key]
        if b.candidate.tolist() != a.candidate.tolist():
            raise SystemExit(f"seed {key[0]}, fold {key[1]}: the two sides ran other candidates")
        wb, wa = winner(b), winner(a)
        for (_, rb), (_, ra) in zip(b.iterrows(), a.iterrows()):
            c = int(rb.candidate)
            out.append(dict(seed=key[0], fold=key[1], candidate=c, valid_acc_before=rb.valid_acc, valid_acc_after=ra.valid_acc,
                            valid_loss_before=rb.valid_loss, valid_loss_after=ra.valid_loss, won_before=c == wb,
                            won_after=c == wa, test_ua_before=b_ua if c == wb else None,
                            test_ua_after=a_ua if c == wa else None))
    return out


def summary(df) -> list[str]:
    "The printed lines (see the module's docstring)."
    import numpy as np
    lines = []
    by = df.groupby(["seed", "fold"])
    for side in ("before", "after"):
        acc = df[f"valid_acc_{side}"]
        distinct = by[f"valid_acc_{side}"].nunique()
        won = df[df[f"won_{side}"]]
        lines.append(f"{side}: {(distinct == 1).sum()} of {len(distinct)} searches scored every candidate alike; "
                     f"distinct scores per search, median {np.median(distinct):.0f}; valid accuracy of a candidate, "
                     f"median {100 * acc.median():.1f} %, of a winner {100 * won[f'valid_acc_{side}'].median():.1f} %; "
                     f"candidate 0 won {int((won.candidate == 0).sum())} times")
    wb = df[df.won_before].set_index(["seed", "fold"])
    wa = df[df.won_after].set_index(["seed", "fold"])
    changed = wb.candidate != wa.candidate.reindex(wb.index)
    d = 100 * (wa.test_ua_after.reindex(wb.index) - wb.test_ua_before)
    lines.append(f"the winner changed in {int(changed.sum())} of {len(changed)} searches; the winners' retrainings, test UA "
                 f"(reported only): before {100 * wb.test_ua_before.mean():.1f}, after "
                 f"{100 * wa.test_ua_after.mean():.1f}; after - before: {paired(d)}"
                 + (f"; where the winner changed: {paired(d[changed])}" if changed.any() else ""))
    return lines


def main(argv=None):
    import pandas as pd
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", nargs="+", required=True, help="experiment folders run before the change")
    p.add_argument("--after", nargs="+", required=True, help="experiment folders run after it, same seeds and folds")
    p.add_argument("--results", default=str(ROOT / "bench" / "results" / "random_candidates.csv"))
    a = p.parse_args(argv)
    command = command_line("candidate_scores.py", argv)
    found = rows(searches(a.before), searches(a.after))
    write_rows(a.results, command, "valid_* after each candidate's short training (valid: the fold's validation "
               "speaker, which chooses); test_ua_*: the winner's retraining, on its rows only (reported only)", found)
    for line in summary(pd.DataFrame(found)): print(line)
    return found


if __name__ == "__main__":
    main()
