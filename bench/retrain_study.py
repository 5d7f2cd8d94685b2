"""One setting of the retraining of DARTS networks on EmoDB (a width, the epochs, the seed), chosen on validation
speakers only.

    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4 --vary seq_dim=32,64 \
        --results bench/results/seq_width_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --vary C=8,16 \
        --results bench/results/cnn_width_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --vary epochs=20,40 \
        --results bench/results/epochs_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4 --vary seed=0,1,2 \
        --results bench/results/seed_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary time_pool=mean,attention --results bench/results/time_pool_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary drop_path=0.2,0.0 --results bench/results/drop_path_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary aux_weight=0.4,0.0 --results bench/results/aux_weight_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary ema_epochs=0.0,1.0 --results bench/results/ema_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --model baseline \
        --vary ema_epochs=0.0,1.0 --results bench/results/ema_baseline_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --set seed=1 \
        --vary aux_weight=0.4,0.0 --results bench/results/aux_weight_seed1_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --set seed=2 \
        --vary aux_weight=0.4,0.0 --results bench/results/aux_weight_seed2_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --set aux_weight=0.0 \
        --vary C=8,16 --results bench/results/cnn_width_noaux_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary convs=drawn,conv_3x3 --results bench/results/full_conv_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --set seed=1 \
        --vary convs=drawn,conv_3x3 --results bench/results/full_conv_seed1_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary speed_perturb=0.0,0.1 --results bench/results/speed_perturb_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary precise_bn=0,100 --results bench/results/precise_bn_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --model baseline \
        --vary speed_perturb=0.0,0.1 --results bench/results/speed_perturb_baseline_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --model baseline \
        --vary precise_bn=0,100 --results bench/results/precise_bn_baseline_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 --model baseline \
        --set speed_perturb=0.1 --vary precise_bn=0,100 --results bench/results/speed_perturb_precise_bn_baseline_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary cnn_cells=reduce+normal+reduce+normal,reduce+normal+normal+reduce+normal+normal \
        --results bench/results/cnn_depth_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary seq_cells=2,3 --results bench/results/seq_depth_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --protocol loso_dev --folds 0,1,2,3,4,5,6,7,8,9 \
        --vary aux_weight=0.4,0.0,0.0 --vary select=valid_ua,last,valid_ua --results bench/results/select_last_dev_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --protocol loso_dev --folds 0,1,2,3,4,5,6,7,8,9 \
        --model baseline --vary select=valid_ua,last --results bench/results/select_last_baseline_dev_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_study.py --protocol loso_dev --folds 0,1,2,3,4,5,6,7,8,9 \
        --model searched --set seed=30 --vary aux_weight=0.4,0.0 --vary select=valid_ua,last \
        --results bench/results/select_last_searched_dev_study.csv

The first asks whether the sequential cells should be as wide as the hand-designed baseline's BiLSTM (2 x 64; the
`cpu` retraining preset builds them 32 wide), the second whether the CNN cells should be wider than the preset's
C = 8, the third whether retraining longer than the preset's 20 epochs pays, the next whether attention pooling over
time (the hand-designed baseline's) serves the DARTS networks better than the mean, whether DARTS's drop path and
auxiliary head help on this little data, and whether keeping a moving average of the weights (half-life one epoch)
steadies the choice of epoch; `convs` (not a field: what every convolution the genotype keeps becomes, `drawn`
leaving them as drawn) asks whether the hand-designed baseline's full 3x3 convolution serves better than the
depthwise-separable and dilated ones of DARTS in the same places; `speed_perturb` whether copies of the training
utterances at speeds 0.9 and 1.1 help, and `precise_bn` whether BatchNorm statistics re-estimated after each epoch
steady the validation scores; `cnn_cells` (a sequence written with +) and `seq_cells` whether the found cells
retrained deeper than the search saw them pay, as DARTS retrains them (a normal cell after each reduction; a third
sequential cell). The last two ask, on `loso_dev` (each fold's test part a speaker nothing in it chooses with: the
judge), whether keeping the final epoch's weights (`select=last`: no choice on one noisy validation speaker)
beats the best validation epoch, for the DARTS networks together with dropping the auxiliary head, whose gain the
last epochs showed (the third setting drops the head alone), and for the baseline; the one after, the same of the
networks a search finds (seeds 30 and 31, each its own invocation with --set seed). The first value of each is the
preset's; a run with the same settings under two names (C=8 and epochs=20, for instance) was made once and its
folder linked under the other name in --out.
--vary seed=0,1,2 measures how far the validation UA moves from one seed to another alone, which a difference
between settings has to exceed.

For each fold (an index into EmoDB's leave-one-speaker-out folds) this draws one genotype uniformly from the `cpu`
search space (the random-search sampler, seed 100 + fold; no search, so that the retraining is judged apart from what
a search picks; --model baseline retrains the hand-designed CNN-LSTM instead; --model searched the genotype that the
`searched` job of `emodarts experiment` finds on the fold with the `cpu` presets and the seed of --set seed, run in
--out as an experiment folder, whose own retraining stands for the setting that retrains the same way, linked in
place of a second run) and retrains it with the `cpu` preset
and seed 0 at each value of --vary (a field of the retrained space or of the retraining config, and its values),
with the fields given by --set held at their values in every run. It compares the utterance UA on the fold's
validation speaker (used to choose) and reports the one on its test speaker (never used to choose). Resumable:
finished runs are read back from --out. Writes --results after every run. Prints figures; asserts nothing.
"""
from __future__ import annotations
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import (CONVS, command_line, emodb_corpus, parse_value, print_choice, retrain_config,  # noqa: E402
                      retrain_row, run_searched_job, shown, study_parser, swap_conv, write_rows)


def main(argv=None):
    p = study_parser(__doc__, "retrain_study")
    p.add_argument("--folds", required=True, help="comma-separated fold indices, e.g. 0,1,2")
    p.add_argument("--vary", required=True, action="append",
                   help="a field of the retrained space or of the retraining config and its values, e.g. C=8,16 or "
                        "epochs=20,40; given twice or more, with as many values each, the k-th values go together "
                        "(--vary aux_weight=0.4,0.0 --vary select=valid_ua,last: two settings, not four)")
    p.add_argument("--model", choices=("genotype", "baseline", "searched"), default="genotype",
                   help="retrain a random genotype per fold (default), the hand-designed CNN-LSTM, or the genotype a "
                        "`cpu` search finds on the fold (with the seed of --set seed, else 0)")
    p.add_argument("--protocol", default="loso", help="fold protocol: loso (default), or loso_dev, whose test part is "
                                                        "a speaker nothing in the fold chooses with (the judge)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="a field held at one value in every run (repeatable), e.g. --set time_pool=attention")
    p.add_argument("--epochs", type=int, default=None, help="override the presets' epochs, the search's too (smoke tests)")
    p.add_argument("--max-steps", type=int, default=None, help="cap the steps per epoch, the search's too (smoke tests)")
    a = p.parse_args(argv)
    varied = {}
    for spec in a.vary:
        k, _, vs = spec.partition("=")
        if not vs: p.error(f"--vary {spec!r}: write a field and its values, e.g. C=8,16")
        if k in varied: p.error(f"--vary {k}=... given twice")
        varied[k] = vs.split(",")
    if len({len(vs) for vs in varied.values()}) > 1:
        p.error(f"--vary {' --vary '.join(a.vary)}: give every varied field as many values (the k-th go together)")
    key = "+".join(varied)  # several fields: one column naming each setting by its values joined with +
    settings = [dict(zip(varied, vs)) for vs in zip(*varied.values())]
    held = {}
    for s in a.set:
        k, eq, v = s.partition("=")
        if not eq or not v or "," in v: p.error(f"--set {s!r}: write one field and one value, e.g. time_pool=attention")
        held[k] = parse_value(v)
    if both := set(varied) & set(held): p.error(f"--set and --vary {', '.join(both)}: a field is either held or varied")
    short = {k: v for k, v in dict(epochs=a.epochs, max_steps=a.max_steps).items() if v is not None}
    if both := set(short) & {*varied, *held}: p.error(f"--{', --'.join(both)} and a field of --set or --vary: give it once")
    if CONVS in (*varied, *held):
        from emodarts_nb.ops import CNN_OPS
        asked = [str(v) for v in (held[CONVS],)] if CONVS in held else varied[CONVS]
        if a.model == "baseline": p.error(f"{CONVS}=...: the hand-designed baseline keeps no genotype to change")
        if bad := [v for v in asked if v != "drawn" and v not in CNN_OPS]:
            p.error(f"{CONVS}={','.join(bad)}: not a CNN operation; use 'drawn' or one of {', '.join(CNN_OPS)}")
    command = command_line("retrain_study.py", argv)
    from emodarts_nb.config import get_config
    from emodarts_nb.random_search import draw_candidate
    from emodarts_nb.search import short_genotype
    corpus = emodb_corpus(a.emodb)
    rows = []
    for fold in (int(f) for f in a.folds.split(",")):
        job = searched_job(corpus, a.protocol, fold, held.get("seed", 0), a.out, short) if a.model == "searched" else None
        drawn = (draw_candidate(get_config("cpu", seed=100 + fold), 0) if a.model == "genotype" else
                 job[0] if job else "baseline")
        for setting in settings:
            change = {**held, **{k: parse_value(v) for k, v in setting.items()}}
            run = Path(a.out) / f"f{fold}" / "-".join(f"{k}{shown(x)}" for k, x in change.items())
            named = {k: shown(x) for k, x in change.items()}
            if len(varied) > 1: named[key] = "+".join(setting.values())
            change.update(short)                                     # neither in the run's name nor in the row
            convs = change.pop(CONVS, "drawn")
            geno = with_convs(drawn, convs)
            if job and convs == "drawn": link_job_training(run, change, *job[1:])   # the genotype the job retrained
            rows.append(dict(fold=fold, **named,
                             **retrain_row(geno, change, 0, corpus, fold, run, a.protocol),
                             genotype=geno if a.model == "baseline" else short_genotype(geno)))
            print(rows[-1], flush=True)
            judge = ("the judge's (protocol loso_dev: a speaker nothing in the fold chose with)" if a.protocol == "loso_dev"
                     else "reported only")
            write_rows(a.results, command, f"valid_ua chooses; test_ua is {judge}; seconds: the retraining's epochs "
                       "(history.csv), on a shared machine: not a speed figure", rows)
    if key == "seed": print_seed_spread(rows)
    else: print_choice(rows, key)


def searched_job(corpus, protocol: str, fold: int, seed: int, out: str, short: dict):
    """The genotype the `searched` job of `emodarts experiment` finds on fold index `fold` with `seed` (`cpu`
    presets), run (or read back) in `out` as an experiment folder; the job also retrains it with the `cpu` preset:
    (genotype, that retraining's folder, its config). `short`: epochs and max_steps of both, for smoke tests."""
    from emodarts_nb.experiment import ExperimentSpec, plan_jobs
    from emodarts_nb.protocols import make_folds
    folds = make_folds(corpus, protocol)
    spec = ExperimentSpec("emodb", str(corpus.root), protocol, search_overrides=short, train_overrides=short, out=out)
    job = plan_jobs(["searched"], folds, [seed])[fold]
    _, d, genotype = run_searched_job(spec, job, corpus, folds[fold])
    return genotype, d / "train", spec.train_config(job)


def link_job_training(run: Path, change: dict, job_run: Path, job_config):
    """Where a setting retrains exactly as the `searched` job did (the preset and its seed), its run folder is a link
    to the job's own retraining instead of a second run of it."""
    from dataclasses import asdict
    from emodarts_nb.runs import UNCOMPUTED
    computed = lambda c: {k: v for k, v in asdict(c).items() if k not in UNCOMPUTED}
    if run.exists() or computed(retrain_config(change, 0)) != computed(job_config): return
    run.parent.mkdir(parents=True, exist_ok=True)
    run.symlink_to(job_run.resolve(), target_is_directory=True)


def with_convs(genotype, op: str):
    "`genotype` with every convolution it keeps (separable or dilated) replaced by `op`; 'drawn' leaves it as it is."
    if op == "drawn" or isinstance(genotype, str): return genotype
    from emodarts_nb.genotypes import CELL_TYPES, Genotype
    d = genotype.to_dict()
    for c in CELL_TYPES: d[c] = [[[swap_conv(o, op), j] for o, j in node] for node in d[c]]
    return Genotype.from_dict(d)


def print_seed_spread(rows: list[dict]):
    "How far the validation UA moves with the seed alone: per fold, and of the mean over the folds."
    import pandas as pd
    t = pd.DataFrame(rows).pivot(index="fold", columns="seed", values="valid_ua")
    print(t.round(3).to_string())
    print(f"per fold: std over seeds {t.std(axis=1).mean():.3f} (mean over folds), largest range "
          f"{(t.max(axis=1) - t.min(axis=1)).max():.3f}; mean over folds per seed {t.mean().round(3).tolist()}, "
          f"their std {t.mean().std():.3f}")


if __name__ == "__main__":
    main()
