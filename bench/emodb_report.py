"""EmoDB leave-one-speaker-out reproduction: searched architecture vs the hand-designed CNN-LSTM vs random search.

    OMP_NUM_THREADS=1 .venv/bin/python bench/emodb_report.py --ray --workers 2   # every report method (searched, baseline, random, egemaps_svm)
    OMP_NUM_THREADS=2 .venv/bin/python bench/emodb_report.py                         # the same jobs one after another
    OMP_NUM_THREADS=1 .venv/bin/python bench/emodb_report.py --folds 0 --search-epochs 1 --train-epochs 2 --max-steps 4 --random-n 2 --name smoke   # smoke test

Runs `emodarts_nb.experiment.run_experiment` on the real EmoDB copy (--emodb PATH, default
$EMODARTS_SHARED_DATA/emodb, else ../shared/data/emodb beside the project; 535 utterances, 10 speakers, 7 classes) with protocol `loso` (one fold per
test speaker, one other speaker for validation). Prints the exact command, the per-fold table with the wall
time of search and retraining and the peak memory, the summary (mean ± std over folds, pooled), the total wall
time and the project's goals (searched UA >= 83 %, >= 2 UA points above the baseline and above egemaps_svm,
one seed of 10 folds within 45 min on 2 cores); writes the same to bench/results/emodb_loso.{csv,md}. The run folder (--out) is resumable: run the
same command again after an interruption. Prints figures; asserts nothing.

The committed run used two single-threaded jobs side by side (local Ray, 2 workers) on 2 cores, with the
longest jobs (searched, then random) first so that the two workers finish close together. Which of the two
ways is faster on 2 cores was not measured side by side.
"""
from __future__ import annotations
import argparse, os, resource, shlex, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    "Peak resident memory (MB) of this process and of any finished children (Ray workers, subprocesses)."
    return max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024


def drop_none(**kw) -> dict: return {k: v for k, v in kw.items() if v is not None}


def goals(summary, total_s: float, n_folds: int, read_back: int = 0) -> list[str]:
    "The issue's goals, each with its figure and PASS / FAIL (or 'not measured')."
    by = summary.set_index("method")
    out = []
    if "searched" in by.index:
        s = 100 * by.loc["searched", "ua_mean"]
        out.append(f"searched UA >= 83 %: {s:.1f} % (pooled {100 * by.loc['searched', 'ua_pooled']:.1f} %) -> {'PASS' if s >= 83 else 'FAIL'}")
        for ref in ("baseline", "egemaps_svm"):
            if ref in by.index:
                d = s - 100 * by.loc[ref, "ua_mean"]
                out.append(f"searched >= {ref} + 2 UA points: {d:+.1f} points -> {'PASS' if d >= 2 else 'FAIL'}")
    if read_back: out.append(f"10 folds within 45 min: not measured ({read_back} job(s) read back from an earlier run of --out)")
    elif n_folds == 10: out.append(f"10 folds within 45 min on 2 cores: {total_s / 60:.1f} min -> {'PASS' if total_s <= 2700 else 'FAIL'}")
    else: out.append(f"10 folds within 45 min: not measured ({n_folds} fold(s) run: {total_s / 60:.1f} min)")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folds", default=None, help="comma-separated fold indices or speaker ids (default: all 10)")
    p.add_argument("--methods", default=None, help="comma-separated (default: every report method)")
    p.add_argument("--emodb", default=None, help="the EmoDB folder (default: $EMODARTS_SHARED_DATA/emodb, else ../shared/data/emodb)")
    p.add_argument("--seeds", default="0")
    p.add_argument("--search-preset", default="cpu"); p.add_argument("--train-preset", default="cpu")
    p.add_argument("--search-epochs", type=int, default=None, help="override the search preset's epochs (smoke tests)")
    p.add_argument("--train-epochs", type=int, default=None, help="override the retraining preset's epochs (smoke tests)")
    p.add_argument("--max-steps", type=int, default=None, help="cap steps per epoch of search and retraining (smoke tests)")
    p.add_argument("--random-n", type=int, default=None, help="candidates of the random search (default: the preset's)")
    p.add_argument("--out", default=str(ROOT / "runs" / "emodb_loso"), help="experiment folder (resumable)")
    p.add_argument("--results", default=str(ROOT / "bench" / "results"), help="where emodb_loso.csv / .md go")
    p.add_argument("--name", default="emodb_loso", help="results file name (without extension)")
    p.add_argument("--cache", default=None, help="feature cache folder")
    p.add_argument("--ray", action="store_true", help="run the jobs as local Ray tasks"); p.add_argument("--workers", type=int, default=None)
    a = p.parse_args(argv)
    command = f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} {Path(sys.executable).name} bench/emodb_report.py {shlex.join(sys.argv[1:] if argv is None else argv)}".strip()
    print(command, flush=True)

    import pandas as pd
    from emodarts_nb.corpus import load_corpus
    from emodarts_nb.experiment import REPORT_METHODS, run_experiment, SUMMARY_FOLDS
    shared = os.environ.get("EMODARTS_SHARED_DATA")
    d = Path(a.emodb) if a.emodb else Path(shared) / "emodb" if shared else ROOT.parent / "shared" / "data" / "emodb"
    if not d.is_dir(): sys.exit(f"EmoDB not found at {d}: give its folder with --emodb PATH")
    corpus = load_corpus("emodb", d)
    from emodarts_nb.experiment import parse_list
    read_back = sum(len(list(Path(a.out).glob(f"{m}/*/seed{s}/done.json")))        # finished jobs of an earlier
                    for m in parse_list(a.methods or REPORT_METHODS) for s in parse_list(a.seeds, int))   # invocation
    t0 = time.perf_counter()
    df = run_experiment(corpus, "loso", a.methods or REPORT_METHODS, folds=a.folds, seeds=a.seeds, out=a.out, search_preset=a.search_preset,
                        train_preset=a.train_preset, ray=a.ray, workers=a.workers, cache_dir=a.cache, command=command,
                        search_overrides=drop_none(epochs=a.search_epochs, max_steps=a.max_steps, random_n=a.random_n),
                        train_overrides=drop_none(epochs=a.train_epochs, max_steps=a.max_steps),
                        title="EmoDB leave-one-speaker-out: searched vs hand-designed baseline vs random search vs eGeMAPS + SVM")
    total = time.perf_counter() - t0
    per = df[~df.fold.isin(SUMMARY_FOLDS)].astype({"seed": int, "n": int, "params": int, "macs": "Int64"})
    summ = df[df.fold.isin(SUMMARY_FOLDS)]
    wide = {m: {f"{k}_{kind}": g[g.fold == kind][k].item() for kind in SUMMARY_FOLDS for k in ("wa", "ua", "macro_f1")}
            for m, g in summ.groupby("method", sort=False)}
    summary = pd.DataFrame([dict(method=m, **v) for m, v in wide.items()])
    n_folds = per.fold.nunique()
    lines = goals(summary, total, n_folds, read_back) + [
        f"wall time of this invocation: {total / 60:.1f} min for {len(per)} job(s) ({n_folds} fold(s)); "
        f"search {per.search_s.sum() / 60:.1f} min, retraining {per.train_s.sum() / 60:.1f} min (jobs read back from an earlier run keep their own times)",
        f"peak memory: {peak_mb():.0f} MB (max RSS of this process and its children); per job: max {per.peak_mb.max():.0f} MB",
        f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, cores {os.cpu_count()}"]
    report = (Path(a.out) / "results.md").read_text() + "\n## Goals and cost\n\n" + "\n".join(f"* {l}" for l in lines) + "\n"
    res = Path(a.results); res.mkdir(parents=True, exist_ok=True)
    (res / f"{a.name}.md").write_text(report)
    (res / f"{a.name}.csv").write_text((Path(a.out) / "results.csv").read_text())
    cols = ["method", "fold", "seed", "n", "wa", "ua", "macro_f1", "params", "macs", "search_s", "train_s", "peak_mb"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(per[cols].to_string(index=False)); print(); print(summ[["method", "fold", "wa", "ua", "macro_f1"]].to_string(index=False))
    print("\n" + "\n".join(lines)); print(f"\nwritten: {res / (a.name + '.md')}, {res / (a.name + '.csv')}")


if __name__ == "__main__":
    main()
