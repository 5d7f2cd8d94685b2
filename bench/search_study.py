"""One setting of the search on EmoDB (the convolutions of its CNN space, or a field of the search config), judged by
retraining what each search finds, on validation speakers only.

    OMP_NUM_THREADS=1 .venv/bin/python bench/search_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary convs=preset,conv_3x3 --results bench/results/search_conv_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/search_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary select_on=valid,alpha --results bench/results/select_on_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/search_study.py --folds 0,1,2,3,4,5,6,7,8,9 --protocol loso_dev \
        --seeds 30,31 --vary epochs=8,32 --results bench/results/search_epochs_dev_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/search_study.py --folds 0,1,2,3,4,5,6,7,8,9 --protocol loso_dev \
        --seeds 30,31 --vary valid_speakers=1,2 --results bench/results/valid_speakers_dev_study.csv

For each fold (an index into EmoDB's leave-one-speaker-out folds, or those of --protocol loso_dev) and each value of
--vary this runs the `searched` job of `emodarts experiment` (search with the `cpu` preset, derive the genotype,
retrain it with the `cpu` retraining preset, each seed of --seeds) with that value, in a folder of its own under
--out (<out>/<field><value>, the layout of an experiment folder, so `emodarts experiment --methods searched --out
<out>/<field><value>` with the same settings reads it back). `convs` (not a config field) is what the separable and
dilated convolutions of the preset's CNN operations become (`preset` leaves them; `conv_3x3`, the hand-designed
baseline's full 3x3 convolution, puts one operation in their place); `valid_speakers` (a keyword of the fold
protocol: `emodarts experiment --valid-speakers`) is how many of a fold's training speakers validate, so the values
validate on different speakers and only the test UA compares across them; any other key is a field of the search
config (`select_on=valid,alpha`: the data the perturbation selection scores on); --set FIELD=VALUE sets a field of the
search config for every value. It compares the retraining's utterance UA on the fold's validation speaker (selected
epoch, and the mean of the last epochs: used to choose) and reports the one on its test speaker (never used to
choose), the supernet's validation accuracy after its last epoch, the search's and retraining's seconds and how many
of the sequential cell's kept edges hold a recurrent or attention operation. Resumable: finished jobs are read back;
--finished runs nothing and reads back the jobs finished so far (run elsewhere into the same layout), naming those
it leaves out. Writes --results after every job.
Prints figures; asserts nothing.
"""
from __future__ import annotations
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import (CONVS, command_line, emodb_corpus, end_valid_ua, parse_value, print_choice, run_searched_job,  # noqa: E402
                      seq_recurrent, study_parser, swap_conv, write_rows)


PROTOCOL_KEYS = ("valid_speakers",)  # --vary keys that are keywords of the fold protocol (`protocols.make_folds`)


def search_overrides(key: str, value, preset: str = "cpu") -> dict:
    "The search config's overrides for one --vary value (`convs=conv_3x3`: the preset's CNN operations changed)."
    if key in PROTOCOL_KEYS: return {}
    if key != CONVS: return {key: value}
    if value == "preset": return {}
    from emodarts_nb.config import get_config
    return {"space": {"cnn_ops": list(dict.fromkeys(swap_conv(o, value) for o in get_config(preset).space.cnn_ops))}}


TEST_UA = ("valid_ua chooses; test_ua is reported only",
           "test_ua is the judge's (loso_dev: a speaker nothing in the fold chooses with), valid_ua the validation speaker's")


def supernet_valid_acc(run: Path) -> float:
    "The supernet's validation accuracy (segments) after its last search epoch (history.csv): how much it learned."
    import pandas as pd
    return round(float(pd.read_csv(run / "history.csv").valid_acc.iloc[-1]), 6)


def main(argv=None):
    p = study_parser(__doc__, "search_study")
    p.add_argument("--folds", required=True, help="comma-separated fold indices, e.g. 0,1,2")
    p.add_argument("--vary", required=True, help="convs=preset,conv_3x3, or a field of the search config and its "
                                                  "values, e.g. beta_darts=5.0,0.0")
    p.add_argument("--seeds", "--seed", default="0", help="comma-separated seeds of the searches and their retrainings "
                                                          "(each fold and seed a run), e.g. 30,31")
    p.add_argument("--protocol", default="loso", help="fold protocol: loso (default), or loso_dev, whose test part "
                                                     "is a speaker that nothing in the fold chooses with")
    p.add_argument("--finished", action="store_true", help="run nothing: read back the jobs that have finished (jobs run "
                                                           "elsewhere into --out, e.g. while they run) and name the others")
    p.add_argument("--search-preset", default="cpu"); p.add_argument("--train-preset", default="cpu")
    p.add_argument("--epochs", type=int, default=None, help="override both presets' epochs (smoke tests)")
    p.add_argument("--max-steps", type=int, default=None, help="cap the steps per epoch of both (smoke tests)")
    from emodarts_nb.cli import _overrides, setting_arg
    p.add_argument("--set", action="append", default=[], type=setting_arg, metavar="FIELD=VALUE", dest="settings",
                   help="a search config setting for every value of --vary (repeatable), e.g. select=perturbation")
    a = p.parse_args(argv)
    key, _, values = a.vary.partition("=")
    if not values: p.error(f"--vary {a.vary!r}: write a field and its values, e.g. convs=preset,conv_3x3")
    from emodarts_nb.ops import CNN_OPS
    if key == CONVS and (bad := [v for v in values.split(",") if v != "preset" and v not in CNN_OPS]):
        p.error(f"{CONVS}={','.join(bad)}: not a CNN operation; use 'preset' or one of {', '.join(CNN_OPS)}")
    from emodarts_nb.core import BadInputError, seed_of
    try: seeds = [seed_of(x) for x in a.seeds.split(",")]
    except BadInputError as e: p.error(f"--seeds {a.seeds}: {e}")
    fixed = _overrides(a.settings)
    if key in fixed: p.error(f"--set {key}=...: {key} is the setting --vary varies")
    command = command_line("search_study.py", argv)
    from emodarts_nb.experiment import ExperimentSpec, plan_jobs
    from emodarts_nb.protocols import make_folds
    from emodarts_nb.runs import is_done, load_json
    corpus = emodb_corpus(a.emodb)
    short = {k: v for k, v in dict(epochs=a.epochs, max_steps=a.max_steps).items() if v is not None}
    specs = {v: ExperimentSpec("emodb", str(corpus.root), a.protocol, {key: v} if key in PROTOCOL_KEYS else {},
                               search_preset=a.search_preset, train_preset=a.train_preset,
                               search_overrides={**short, **fixed, **search_overrides(key, v, a.search_preset)},
                               train_overrides=short, out=str(Path(a.out) / f"{key}{v}"))
             for v in map(parse_value, values.split(","))}
    try: folds = {v: make_folds(corpus, a.protocol, **s.protocol_kw) for v, s in specs.items()}  # a bad value refused
    except BadInputError as e: p.error(str(e))
    for v, s in specs.items(): s.search_config(plan_jobs(["searched"], folds[v][:1], seeds[:1])[0])  # and here
    rows = []
    for seed, fold in ((seed, int(f)) for seed in seeds for f in a.folds.split(",")):
        for v, spec in specs.items():
            job = plan_jobs(["searched"], folds[v], [seed])[fold]
            if a.finished and not is_done(job.folder(spec.out)):
                print(f"not finished, left out: fold {fold}, seed {seed}, {key}={v} ({job.folder(spec.out)})", flush=True)
                continue
            r, d, geno = run_searched_job(spec, job, corpus, folds[v][fold])
            m = load_json(d / "train" / "metrics.json")
            rows.append(dict(fold=fold, seed=seed, **{key: v}, params=r["params"], valid_ua=m["valid"]["ua"],
                             valid_ua_end=end_valid_ua(d / "train"), test_ua=r["ua"],
                             supernet_valid_acc=supernet_valid_acc(d / "search"), search_s=r["search_s"],
                             train_s=r["train_s"], seq_trained=seq_recurrent(geno), genotype=r["genotype"]))
            print(rows[-1], flush=True)
            write_rows(a.results, command, f"{TEST_UA[a.protocol == 'loso_dev']}; search_s, train_s: wall seconds of "
                       "the job's two stages, on a shared machine: not a speed figure", rows)
    if key in PROTOCOL_KEYS: print(f"{key}: each value validates on other speakers; only test_ua compares across values")
    print_choice(rows, key)


if __name__ == "__main__":
    main()
