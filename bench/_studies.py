"""What the EmoDB studies of bench/ (width_study, select_study, retrain_study) share: their common arguments, the
command line they record, the corpus, and the results file they rewrite after every job."""
from __future__ import annotations
import argparse, os, shlex, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


CONVS = "convs"   # --vary convs=...: what the separable and dilated convolutions become (not a config field)
CONV_OPS = ("sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")


def swap_conv(name: str, op: str) -> str:
    "`op` in place of a separable or dilated convolution `name`; any other operation as it is."
    return op if name in CONV_OPS else name


def parse_value(x: str):
    """A --vary value as written: a whole number, a decimal one, a word (time_pool=mean,attention), or a sequence of
    them joined by + (cnn_cells=reduce+normal+reduce+normal)."""
    if "+" in x: return tuple(parse_value(v) for v in x.split("+"))
    for kind in (int, float):
        try: return kind(x)
        except ValueError: pass
    return x


def shown(v):
    "A --vary value as written (a sequence joined by +, else the value itself): for run folders and results rows."
    return "+".join(map(str, v)) if isinstance(v, tuple) else v


def study_parser(doc: str, name: str) -> argparse.ArgumentParser:
    "A parser with --emodb, --out (runs/<name>) and --results (bench/results/<name>.csv); add the study's own."
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--emodb", default=None, help="EmoDB folder (default: $EMODARTS_SHARED_DATA/emodb)")
    p.add_argument("--out", default=str(ROOT / "runs" / name))
    p.add_argument("--results", default=str(ROOT / "bench" / "results" / f"{name}.csv"))
    return p


def command_line(script: str, argv=None) -> str:
    "The command as run (thread count included), printed now and written at the top of the results file."
    command = (f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python bench/{script} "
               f"{shlex.join(sys.argv[1:] if argv is None else argv)}")
    print(command, flush=True)
    return command


def emodb_corpus(path: str | None):
    "EmoDB from `path`, else $EMODARTS_SHARED_DATA/emodb, else ../shared/data/emodb beside the project."
    from emodarts_nb.corpus import load_corpus
    base = Path(os.environ.get("EMODARTS_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return load_corpus("emodb", Path(path) if path else base / "emodb")


def train_seconds(run: Path) -> float:
    "Seconds of a retraining run's epochs (its history.csv), so that a run read back keeps its own time."
    import pandas as pd
    return round(float(pd.read_csv(run / "history.csv").seconds.sum()), 1)


def write_rows(path, command: str, note: str, rows: list[dict]):
    "Rewrite `path` with the command, a note and the rows so far: a stopped study keeps what it finished."
    import pandas as pd
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write(f"# command: {command}\n# {note}\n")
        pd.DataFrame(rows).to_csv(f, index=False)


def retrain_config(change: dict, seed: int):
    "The `cpu` retraining config with `seed`, changed by `change` (fields of its space, such as C, or of its own)."
    from dataclasses import fields
    from emodarts_nb.config import get_train_config
    from emodarts_nb.supernet import SpaceConfig
    in_space = {f.name for f in fields(SpaceConfig)}
    space = {k: v for k, v in change.items() if k in in_space}
    rest = {k: v for k, v in change.items() if k not in in_space}
    return get_train_config("cpu", **{"seed": seed, **rest}, **(dict(space=space) if space else {}))


def retrain_row(genotype, change: dict, seed: int, corpus, fold: int, run: Path, protocol: str = "loso") -> dict:
    """Retrain `genotype` with the `cpu` preset and `seed`, changed by `change` (fields of its space, such as C, or of
    the retraining config, such as epochs or seed), on fold index `fold` of `protocol` into `run` (read back when it
    is there); its parameters, validation and test UA and the seconds of its epochs."""
    from emodarts_nb.train import retrain
    r = retrain(genotype, retrain_config(change, seed), corpus, fold, run, resume=run.exists(), progress=False,
                protocol=protocol)
    return dict(params=r.metrics["params"], valid_ua=r.metrics["valid"]["ua"], valid_ua_end=end_valid_ua(run),
                test_ua=r.metrics["test"]["ua"], seconds=train_seconds(run))


def trained_genotype(run: Path):
    "The genotype a retraining run built (its model.json); the run is named where that cannot be read."
    from emodarts_nb.core import load_json
    from emodarts_nb.genotypes import Genotype
    return Genotype.from_dict(load_json(run / "model.json")["genotype"], what=str(run))


def run_searched_job(spec, job, corpus, fold):
    """Run (or read back) the `searched` job `job` of the experiment `spec` on `fold` (a `protocols.Fold`): its row,
    its folder and the genotype its retraining built."""
    from emodarts_nb.experiment import run_job
    row, d = run_job(spec, job, corpus, fold), job.folder(spec.out)
    return row, d, trained_genotype(d / "train")


def seq_recurrent(genotype) -> int:
    "How many of the sequential cell's kept edges hold a trained operation (recurrent or attention)."
    from emodarts_nb.genotypes import is_param_free
    return sum(not is_param_free(op) for node in genotype.seq for op, _ in node)


END_EPOCHS = 5  # the last quarter of the presets' 20 epochs


def end_valid_ua(run: Path, k: int = END_EPOCHS) -> float:
    """The mean validation UA of a retraining's last `k` epochs (history.csv). The best epoch's UA is the largest of
    20 noisy scores on one speaker, so it rewards a setting whose scores jump about; this mean does not."""
    import pandas as pd
    return round(float(pd.read_csv(run / "history.csv").valid_ua.iloc[-k:].mean()), 6)


def print_choice(rows: list[dict], key: str):
    """Mean validation and test UA per value of `key`, the value the validation speakers choose, and each value
    against the first one fold by fold (run by run: fold and seed, where the rows name seeds): the mean difference,
    wins/ties/losses and the sign-flip p, beside the smallest p that many untied pairs can give (2 / 2**pairs: 0.0625
    for 5 folds), of the selected epoch's validation UA and, where the rows hold it, of the mean validation UA of the
    last epochs (`end_valid_ua`)."""
    import pandas as pd
    from emodarts_nb.experiment import sign_flip_p
    d = pd.DataFrame(rows).assign(**{key: ["none" if r[key] is None else r[key] for r in rows]})  # none (off), not NaN
    scores = {"valid_ua": "valid UA", "valid_ua_end": f"valid UA of the last {END_EPOCHS} epochs"}
    scores = {c: label for c, label in scores.items() if c in d}
    s = d.groupby(key, sort=False).agg(**{c: (c, "mean") for c in scores}, test_ua=("test_ua", "mean"),
                           params=("params", "median"), folds=("fold", "count"))
    print(s.round(3).to_string())
    print(f"chosen on validation speakers: {key}={s.valid_ua.idxmax()}")
    ref = pd.unique(d[key])[0]
    for c, label in scores.items():
        t = d.pivot(index=[i for i in ("fold", "seed") if i in d], columns=key, values=c)  # one row per run
        for v in t.columns.drop(ref):
            diff = (t[v] - t[ref]).dropna()
            untied = int((diff != 0).sum())  # a tie is the same under either sign: it adds no pattern
            print(f"{key}={v} against {key}={ref}, {label} fold by fold: {diff.mean():+.3f} over {len(diff)} "
                  f"{'runs (fold, seed)' if 'seed' in d else 'folds'}, "
                  f"{(diff > 0).sum()}/{(diff == 0).sum()}/{(diff < 0).sum()} won/tied/lost, sign-flip p "
                  f"{sign_flip_p(diff.to_numpy()):.3f} (the smallest p {untied} untied pairs can give: "
                  f"{2 / 2 ** untied:.3f})")


def paired(d, short: bool = False) -> str:
    "Paired differences `d` (points): '+1.0, 12/0/4 of 16, p = 0.116' (won/tied/lost, sign-flip p); `short`: '+1.0 (p = 0.116)'."
    import numpy as np
    from emodarts_nb.experiment import sign_flip_p
    d = np.asarray(d, float)
    if short: return f"{d.mean():+.1f} (p = {sign_flip_p(d):.3g})"
    return f"{d.mean():+.1f}, {(d > 0).sum()}/{(d == 0).sum()}/{(d < 0).sum()} of {len(d)}, p = {sign_flip_p(d):.3g}"
