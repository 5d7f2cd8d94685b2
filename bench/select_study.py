"""How the searched genotype is read off the supernet, chosen on the validation speakers only: alphas (DARTS) or perturbation (DARTS-PT).

    OMP_NUM_THREADS=1 .venv/bin/python bench/select_study.py --runs runs/emodb_loso --folds 03,08

For each fold of an `emodb_report.py` run folder (--runs) whose `searched` jobs read the genotype off the alphas,
this loads the final supernet of the job's search (<runs>/searched/<fold>/seed<seed>/search/checkpoint.pt),
derives the genotype by perturbation (`search.perturbation_genotype` on the search's valid part, with the
search's own caps and batch size: what `select="perturbation"` does after the last epoch) and retrains it
with the `cpu` retraining preset (--train-preset) and the same seed. It compares the utterance UA on the fold's validation
speaker (used to choose) with that of the job's own retraining of the alphas' genotype, and reports the one
on the test speaker (never used to choose). Resumable: finished jobs are read back from --out. Writes
bench/results/select_study.csv after every job. Prints figures; asserts nothing.
"""
from __future__ import annotations
import sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import command_line, emodb_corpus, study_parser, train_seconds, write_rows  # noqa: E402


def main(argv=None):
    p = study_parser(__doc__, "select_study")
    p.add_argument("--runs", default=str(ROOT / "runs" / "emodb_loso"), help="an emodb_report.py run folder")
    p.add_argument("--folds", required=True, help="comma-separated fold names (test speakers), e.g. 03,08")
    p.add_argument("--seed", type=int, default=0, help="the search seed whose supernet is read")
    p.add_argument("--train-preset", default="cpu", help="retraining preset of the perturbation genotypes (default cpu)")
    p.add_argument("--train-epochs", type=int, default=None, help="override the retraining preset's epochs (smoke tests)")
    p.add_argument("--max-steps", type=int, default=None, help="cap steps per retraining epoch (smoke tests)")
    a = p.parse_args(argv)
    command = command_line("select_study.py", argv)
    import pandas as pd
    from emodarts_nb.config import derive_kw, get_train_config, load_config
    from emodarts_nb.core import load_json, save_json
    from emodarts_nb.data import load_fold, search_data
    from emodarts_nb.genotypes import Genotype
    from emodarts_nb.protocols import make_folds
    from emodarts_nb.runs import load_run_checkpoint
    from emodarts_nb.search import build_supernet, perturbation_genotype, short_genotype
    from emodarts_nb.train import retrain
    corpus = emodb_corpus(a.emodb)
    folds = make_folds(corpus, "loso")
    names = [f.name for f in folds]
    rows = []
    for fold in a.folds.split(","):
        job, out = Path(a.runs) / "searched" / fold / f"seed{a.seed}", Path(a.out) / fold
        cfg = load_config(job / "search" / "config.json")
        if cfg.select != "alphas": sys.exit(f"{job}: its search already selects by {cfg.select!r}; give a report run with select='alphas'")
        m = load_json(job / "train" / "metrics.json")
        g = Genotype.from_dict(load_json(job / "search" / "genotype.json")["best"], what=str(job))
        rows.append(dict(fold=fold, select="alphas", genotype=short_genotype(g), params=m["params"],
                         valid_ua=m["valid"]["ua"], test_ua=m["test"]["ua"], select_s=0.0,
                         train_s=train_seconds(job / "train")))        # the report's own retraining
        if not (out / "genotype.json").exists():
            fd = load_fold(corpus, folds[names.index(fold)], cfg.features, cfg.cache_dir)
            data = search_data(fd, cfg.weight_fraction, cfg.seed)
            net = build_supernet(cfg, data.n_classes, data.input_shape)
            net.load_state_dict(load_run_checkpoint(job / "search")["model"])
            t = time.perf_counter()
            pg, table = perturbation_genotype(net, data.valid_x, data.valid_y, batch_size=cfg.eval_batch_size, **derive_kw(cfg))
            out.mkdir(parents=True, exist_ok=True)
            table.to_csv(out / "perturbation.csv", index=False)
            save_json(dict(genotype=pg.to_dict(), seconds=round(time.perf_counter() - t, 1)), out / "genotype.json")
        saved = load_json(out / "genotype.json")
        pg = Genotype.from_dict(saved["genotype"], what=str(out / "genotype.json"))
        over = {k: v for k, v in dict(epochs=a.train_epochs, max_steps=a.max_steps).items() if v is not None}
        r = retrain(pg, get_train_config(a.train_preset, seed=a.seed, **over), corpus, names.index(fold), out / "train",
                    resume=(out / "train").exists(), progress=False)
        rows.append(dict(fold=fold, select="perturbation", genotype=short_genotype(pg), params=r.metrics["params"],
                         valid_ua=r.metrics["valid"]["ua"], test_ua=r.metrics["test"]["ua"], select_s=saved["seconds"],
                         train_s=train_seconds(out / "train")))
        print(rows[-2], rows[-1], sep="\n", flush=True)
        write_rows(a.results, command, "valid_ua chooses; test_ua is reported only; select_s: the perturbation scoring; "
                   "train_s: the retraining's epochs (history.csv); on a shared machine: not speed figures", rows)
    df = pd.DataFrame(rows)
    s = df.groupby("select").agg(valid_ua=("valid_ua", "mean"), test_ua=("test_ua", "mean"), params=("params", "median"),
                                 folds=("fold", "count"))
    w = df.pivot(index="fold", columns="select", values="valid_ua")
    print(s.round(3).to_string())
    print(f"perturbation higher on valid in {(w.perturbation > w.alphas).sum()} of {len(w)} folds; "
          f"chosen on validation speakers: {s.valid_ua.idxmax()}")


if __name__ == "__main__":
    main()
