"""Averaging the posteriors of networks retrained with different seeds (an ensemble) against the networks alone, on
EmoDB, judged on validation speakers; nothing is trained. (The package now builds such ensembles itself: `emodarts
retrain --set members=3`, `--train-set members=3` in `emodarts experiment`, and bench/members_study.py reads them;
this study averages retrainings that were run separately.)

    OMP_NUM_THREADS=1 .venv/bin/python bench/ensemble_study.py --folds 0,1,2,3,4,5,6,7,8,9 --name drawn \
        --members runs/aux/f{fold}/aux_weight0.4 runs/aux1/f{fold}/seed1-aux_weight0.4 runs/aux2/f{fold}/seed2-aux_weight0.4 \
        --results bench/results/ensemble_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/ensemble_study.py --folds 0,1,2,3,4,5,6,7,8,9 --name baseline \
        --members runs/emab/f{fold}/ema_epochs0.0 runs/bseed/f{fold}/seed1 runs/bseed/f{fold}/seed2 \
        --results bench/results/ensemble_study.csv

Each --members pattern names one finished retraining per fold (`{fold}`: the fold index of --folds), as the other
studies write them (bench/retrain_study.py: `--vary seed=...`, or the same setting under `--set seed=...`). The
committed file's baseline members and its `loso_dev` rows came from

    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --model baseline \
        --vary seed=1,2 --out runs/bseed
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --protocol loso_dev --folds 0,1,2,3,4,5,6,7,8,9 \
        --model baseline --vary seed=0,1,2 --out runs/dev_bseed        # and without --model: the drawn genotype

(the drawn genotype's LOSO members are the auxiliary-head study's preset runs, seeds 0-2; the baseline's seed 0,
the weight-average study's preset run). For
each fold the members' selected weights (model.pt) are evaluated again on the fold's validation and test speakers,
each utterance's posteriors averaged over its segments as retraining scores it; a member whose validation or test
UA differs from what its own retraining recorded stops the study (the data or the code has changed since). The
ensemble's posteriors are the mean of the members'. Rows: the fold, the members' mean UA and the ensemble's, on the
validation speaker (which chooses) and on the test speaker (reported only). --results gains or replaces the rows of
--name, so that several families share one file. Prints the ensemble against the members' mean fold by fold
(mean difference, won/tied/lost, sign-flip p); asserts nothing.
"""
from __future__ import annotations
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import command_line, emodb_corpus  # noqa: E402


def member_probs(run: Path, fd) -> tuple:
    "(valid, test) utterance posteriors of the retraining in `run` on `fd`, checked against its own metrics.json."
    from emodarts_nb.core import load_json
    from emodarts_nb.metrics import evaluate_predictions
    from emodarts_nb.predict import load_model
    from emodarts_nb.train import part_probs
    if not (run / "done.json").exists(): raise SystemExit(f"{run}: not a finished retraining (no done.json): run it first")
    net, own = load_model(run, device="cpu").model, load_json(run / "metrics.json")
    batch = load_json(run / "config.json").get("eval_batch_size", 64)
    P = {p: part_probs(net, fd[p], batch) for p in ("valid", "test")}
    for p in P:
        ua = evaluate_predictions(fd[p].utt_y, P[p].argmax(1), fd.labels)["ua"]
        if abs(ua - own[p]["ua"]) > 1e-9:
            raise SystemExit(f"{run}: its {p} UA is {ua:.4f} evaluated again, {own[p]['ua']:.4f} in its metrics.json: the "
                             "features or the code changed since it ran; retrain it, or evaluate with the code it ran with")
    return P["valid"], P["test"]


def fold_row(runs: list[Path], corpus, fold: int) -> dict:
    "The members' mean UA and their ensemble's on the fold's validation and test speakers."
    import numpy as np
    from emodarts_nb.config import train_config_from_dict
    from emodarts_nb.core import load_json
    from emodarts_nb.metrics import evaluate_predictions
    from emodarts_nb.train import fold_data
    protocol = load_json(runs[0] / "fold.json")["protocol"]                 # loso, or loso_dev (its test part: the judge)
    fd, _ = fold_data(train_config_from_dict(load_json(runs[0] / "config.json")), corpus, fold, protocol)
    for r in runs:
        said = load_json(r / "fold.json")
        if (said["protocol"], said["fold"]) != (protocol, fd.fold.name):
            raise SystemExit(f"{r}: a retraining of fold {said['fold']} of {said['protocol']}, not of fold {fold} of "
                             f"{protocol} ({fd.fold.name}) as {runs[0]}")
    probs = [member_probs(r, fd) for r in runs]
    ua = lambda part, P: evaluate_predictions(fd[part].utt_y, P.argmax(1), fd.labels)["ua"]
    row = dict(fold=fold, members=len(runs))
    for k, part in enumerate(("valid", "test")):
        row[f"{part}_ua_members"] = float(np.mean([ua(part, p[k]) for p in probs]))
        row[f"{part}_ua"] = ua(part, np.mean([p[k] for p in probs], axis=0))
    return row


def write_results(path, name: str, command: str, rows: list[dict]):
    "Rewrite `path` with `rows` in place of name's earlier ones; the other names' rows and commands stay. The table."
    import pandas as pd
    df, out, commands = pd.DataFrame(rows), Path(path), {}
    if out.exists():
        df = pd.concat([pd.read_csv(out, comment="#").query("name != @name"), df], ignore_index=True)
        commands = dict(l[len("# command "):].split(": ", 1) for l in out.read_text().splitlines() if l.startswith("# command "))
    commands[name] = command
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as f:
        f.writelines(f"# command {n}: {commands[n]}\n" for n in pd.unique(df.name))
        f.write("# valid_ua chooses; test_ua is reported only (with --protocol loso_dev runs: the judge's, a speaker nothing "
                "in the fold chose with); *_members: the members' mean UA; without: their ensemble's (posteriors averaged)\n")
        df.to_csv(f, index=False)
    return df


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])      # the studies' parser, less --out: nothing is trained
    p.add_argument("--emodb", default=None, help="EmoDB folder (default: $EMODARTS_SHARED_DATA/emodb)")
    p.add_argument("--results", default=str(ROOT / "bench" / "results" / "ensemble_study.csv"))
    p.add_argument("--folds", required=True, help="comma-separated fold indices, e.g. 0,1,2")
    p.add_argument("--members", nargs="+", required=True, help="one retraining folder per member, {fold} for the fold index")
    p.add_argument("--name", required=True, help="what the members are (a row label), e.g. baseline")
    a = p.parse_args(argv)
    if len(a.members) < 2: p.error("--members: give two or more retrainings to average")
    if bad := [m for m in a.members if "{fold}" not in m]: p.error(f"--members {bad[0]}: write {{fold}} where the fold index goes")
    from emodarts_nb.experiment import sign_flip_p
    command = command_line("ensemble_study.py", argv)
    corpus = emodb_corpus(a.emodb)
    rows = [dict(name=a.name, **fold_row([Path(m.format(fold=f)) for m in a.members], corpus, int(f))) for f in a.folds.split(",")]
    df = write_results(a.results, a.name, command, rows)
    mine = df[df.name == a.name]
    for part in ("valid", "test"):
        d = (mine[f"{part}_ua"] - mine[f"{part}_ua_members"]).values
        print(f"{a.name}: {part} UA, {len(a.members)}-member ensemble {100 * mine[f'{part}_ua'].mean():.1f} against its members' "
              f"mean {100 * mine[f'{part}_ua_members'].mean():.1f}: {100 * d.mean():+.1f} points over {len(d)} folds, "
              f"{(d > 0).sum()}/{(d == 0).sum()}/{(d < 0).sum()} won/tied/lost, sign-flip p {sign_flip_p(d):.3f}")
    return rows


if __name__ == "__main__":
    main()
