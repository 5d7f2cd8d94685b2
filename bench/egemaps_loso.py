"""EmoDB leave-one-speaker-out with the classical baseline: eGeMAPS functionals + linear SVM (`egemaps_svm`).

    OMP_NUM_THREADS=1 .venv/bin/python bench/egemaps_loso.py --emodb ../shared/data/emodb                  # the committed run
    OMP_NUM_THREADS=1 .venv/bin/python bench/egemaps_loso.py --emodb ../shared/data/emodb --refit train+valid --name egemaps_loso_trainvalid
    OMP_NUM_THREADS=1 .venv/bin/python bench/egemaps_loso.py --emodb ../shared/data/emodb --grid 0.01 --refit train+valid --name egemaps_loso_c001

Runs `emodarts_nb.egemaps.egemaps_job` on the 10 folds of protocol `loso` (the folds of bench/emodb_report.py:
one test speaker, one other speaker for validation, `protocols.make_folds(corpus, "loso")`). Per fold the SVM's C
is chosen from `egemaps.C_GRID` (or --grid) by UA on the validation speaker, refitted on train (or train+valid,
--refit) and tested once. Prints the per-fold table (UA, WA, macro-F1, chosen C, seconds), the mean ± std over folds
and the pooled UA, and the wall time (the first run extracts the functionals of the 535 files, about a minute on
one core; later runs read them from the cache). Writes the per-fold rows to bench/results/<name>.csv. Prints
figures; asserts nothing.
"""
from __future__ import annotations
import argparse, os, platform, shlex, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("EMODARTS_SHARED_DATA")
    p.add_argument("--emodb", default=str(Path(default) / "emodb") if default else None,
                   help="the EmoDB folder (default: $EMODARTS_SHARED_DATA/emodb)")
    p.add_argument("--grid", default=None, help="comma-separated values of C to choose from (default: egemaps.C_GRID)")
    p.add_argument("--refit", default="train", help="train | train+valid: what the chosen C is refitted on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "runs" / "egemaps_loso"), help="run folders (one per fold)")
    p.add_argument("--results", default=str(ROOT / "bench" / "results"))
    p.add_argument("--name", default="egemaps_loso", help="results file name (without extension)")
    p.add_argument("--cache", default=None, help="eGeMAPS cache folder (default: the feature cache's)")
    return p.parse_args(argv)


def main(argv=None):
    a = parse(argv)
    command = (f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} {Path(sys.executable).name} bench/egemaps_loso.py "
               f"{shlex.join(sys.argv[1:] if argv is None else argv)}")
    print(command, flush=True)
    if a.emodb is None: sys.exit("give the EmoDB folder: --emodb PATH (or set EMODARTS_SHARED_DATA)")

    import numpy as np, pandas as pd
    from emodarts_nb.corpus import load_corpus
    from emodarts_nb.egemaps import C_GRID, egemaps_job
    from emodarts_nb.metrics import summarise_folds, summary_table
    from emodarts_nb.protocols import make_folds
    t0 = time.perf_counter()
    corpus = load_corpus("emodb", a.emodb)
    grid = tuple(float(c) for c in a.grid.split(",")) if a.grid else C_GRID
    rows = []
    for fold in make_folds(corpus, "loso"):
        r = egemaps_job(corpus, fold, Path(a.out) / a.name / fold.name, seed=a.seed, cache_dir=a.cache, grid=grid, refit=a.refit)
        rows.append(dict(fold=fold.name, valid=",".join(fold.speakers(corpus)["valid"]), **r))
        print(f"fold {fold.name} (valid {rows[-1]['valid']}): UA {100 * r['ua']:.1f}  WA {100 * r['wa']:.1f}  C {r['C']:g}"
              f"  ({r['features_s']:.1f} s features, {r['search_s']:.2f} s choosing C)", flush=True)
    wall = time.perf_counter() - t0

    df = pd.DataFrame(rows)
    preds = pd.DataFrame([dict(method="egemaps_svm", fold=r["fold"], label=l, pred=q)
                          for r in rows for l, q in zip(r["label"], r["pred"])])
    summary = summarise_folds(preds)
    cols = ["fold", "valid", "n", "wa", "ua", "macro_f1", "C", "params", "features_s", "search_s", "train_s"]
    print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(summary_table(summary).to_string(index=False))
    s = summary.iloc[0]
    print(f"UA {100 * s.ua_mean:.1f} ± {100 * s.ua_std:.1f} over {len(df)} folds, pooled {100 * s.ua_pooled:.1f}; "
          f"C chosen: {', '.join(f'{c:g} x{n}' for c, n in df.C.value_counts().sort_index().items())}; wall time {wall:.1f} s")

    import emodarts_nb, sklearn
    out = Path(a.results) / f"{a.name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    head = [f"# command: {command}", f"# date: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
            f"# machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()}",
            f"# package: emodarts_nb {emodarts_nb.__version__}, scikit-learn {sklearn.__version__}, python {platform.python_version()}",
            f"# UA {100 * s.ua_mean:.1f} ± {100 * s.ua_std:.1f} over folds (std ddof=1), pooled {100 * s.ua_pooled:.1f}; "
            f"wall time {wall:.1f} s"]
    with open(out, "w") as f:
        f.write("\n".join(head) + "\n")
        df[cols].to_csv(f, index=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
