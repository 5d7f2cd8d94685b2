"eGeMAPS + linear SVM baseline: content-keyed cache, the project's audio errors, per-speaker z-scores, C chosen on valid only."
import dataclasses, json, warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import emodarts_nb.egemaps as E
from emodarts_nb.core import CorpusError
from emodarts_nb.egemaps import C_GRID, egemaps_job, extract_egemaps, fold_matrices, EgemapsCache
from emodarts_nb.protocols import Fold, get_fold
from emodarts_nb.synthetic import make_synthetic

ROW_KEYS = {"n", "wa", "ua", "macro_f1", "params", "macs", "search_s", "train_s", "features_s", "C", "label", "pred"}


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    "4 speakers x 3 classes x 3 utterances of 0.6 s (36 files)."
    return make_synthetic(tmp_path_factory.mktemp("syn"), n_speakers=4, n_per_class=3, classes=("neutral", "angry", "sad"),
                          seconds=0.6)


@pytest.fixture(scope="module")
def feats(syn, tmp_path_factory):
    return extract_egemaps(syn, tmp_path_factory.mktemp("cache")).feats


def test_second_run_reads_the_cache_and_a_copy_is_found_by_content(syn, tmp_path):
    first = extract_egemaps(syn, tmp_path)
    again = extract_egemaps(syn, tmp_path)
    assert (first.computed, first.cached, again.computed, again.cached) == (36, 0, 0, 36)
    assert all(np.array_equal(first.feats[u], again.feats[u]) for u in syn.utts)
    copy = tmp_path / "renamed.wav"
    copy.write_bytes(open(syn.table.path[0], "rb").read())
    moved = dataclasses.replace(syn, table=syn.table.iloc[:1].assign(path=[str(copy)]))
    assert extract_egemaps(moved, tmp_path).cached == 1                      # same bytes, other name: a cache hit
    assert json.loads((first.cache_dir / "config.json").read_text())["feature_set"] == "eGeMAPSv02"


def test_damaged_cache_files_are_recomputed_not_trusted(syn, tmp_path):
    first = extract_egemaps(syn, tmp_path)
    files = sorted(first.cache_dir.glob("*/*.npy"))
    files[0].write_bytes(files[0].read_bytes()[:50])                         # torn
    np.save(files[1], np.full(88, np.nan, np.float32))                      # readable, but NaN
    np.save(files[2], np.zeros(87, np.float32))                             # wrong length
    with pytest.warns(UserWarning, match="damaged eGeMAPS cache entry"):
        fixed = extract_egemaps(syn, tmp_path)
    assert (fixed.computed, fixed.cached, sorted(fixed.repaired)) == (3, 33, sorted(map(str, files[:3])))
    assert all(np.array_equal(first.feats[u], fixed.feats[u]) for u in syn.utts)


def test_the_key_names_the_feature_set_and_version(tmp_path, monkeypatch):
    a = EgemapsCache(tmp_path).dir
    monkeypatch.setattr(E, "EGEMAPS_VERSION", E.EGEMAPS_VERSION + 1)
    assert EgemapsCache(tmp_path).dir != a


def test_bad_files_get_the_project_errors(syn, tmp_path):
    trunc, short = tmp_path / "trunc.wav", tmp_path / "short.wav"
    sf.write(trunc, np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1, 16000)
    trunc.write_bytes(trunc.read_bytes()[:-4000])
    sf.write(short, np.random.default_rng(0).standard_normal(800).astype(np.float32) * 0.1, 16000)   # 50 ms
    bad = dataclasses.replace(syn, table=syn.table.iloc[:4].assign(
        path=[str(tmp_path / "none.wav"), str(trunc), str(short), syn.table.path[3]]))
    with pytest.raises(CorpusError) as e: extract_egemaps(bad, tmp_path / "cache")
    msg = str(e.value)
    assert "3 problem(s)" in msg and "file not found" in msg and "truncated" in msg and "too short" in msg
    lenient = extract_egemaps(bad, tmp_path / "cache", strict=False)
    assert list(lenient.feats) == [syn.utts[3]] and lenient.problems.bad_utts() == set(syn.utts[:3])


def test_each_speaker_z_scored_with_its_own_statistics_without_labels(syn, feats):
    fold = get_fold(syn, "loso", 0)
    parts = fold_matrices(syn, fold, feats)
    spk = dict(zip(syn.table.utt, syn.table.speaker))
    for xy in parts.values():
        for s in {spk[u] for u in xy.utts}:
            rows = xy.x[[spk[u] == s for u in xy.utts]]
            raw = np.stack([feats[u] for u in xy.utts if spk[u] == s]).astype(np.float64)
            expect = (raw - raw.mean(0)) / np.maximum(raw.std(0), 1e-5)
            np.testing.assert_allclose(rows, expect, atol=1e-5)
    shuffled = dataclasses.replace(syn, table=syn.table.assign(label=syn.table.label.sample(frac=1, random_state=1).values))
    assert np.array_equal(fold_matrices(shuffled, fold, feats)["test"].x, parts["test"].x)


def test_missing_functionals_raise_or_are_left_out(syn, feats):
    fold = get_fold(syn, "loso", 0)
    some = {u: x for u, x in feats.items() if u != fold.test[0]}
    with pytest.raises(CorpusError, match="no eGeMAPS functionals"): fold_matrices(syn, fold, some)
    assert fold_matrices(syn, fold, some, strict=False)["test"].utts == fold.test[1:]


def test_C_is_chosen_on_the_valid_part_and_the_test_labels_change_nothing(syn, feats, tmp_path):
    fold = get_fold(syn, "loso", 1)
    cache = tmp_path / "cache"
    row = egemaps_job(syn, fold, tmp_path / "a", cache_dir=cache)
    test = syn.table.utt.isin(fold.test)
    relabel = syn.table.label.copy()
    relabel[test] = relabel[test].sample(frac=1, random_state=0).values
    assert (relabel != syn.table.label).any()
    other = egemaps_job(dataclasses.replace(syn, table=syn.table.assign(label=relabel)), fold, tmp_path / "b", cache_dir=cache)
    assert (other["C"], other["pred"]) == (row["C"], row["pred"])
    m = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert [float(c) for c in m["valid_ua"]] == pytest.approx(list(C_GRID), rel=1e-5)
    assert m["valid_ua"][f"{row['C']:g}"] == max(m["valid_ua"].values())
    assert m["valid"]["ua"] == pytest.approx(max(m["valid_ua"].values()))   # refit on train: the model that was scored


def test_job_writes_a_run_folder_like_retraining(syn, tmp_path):
    row = egemaps_job(syn, 2, tmp_path / "run", cache_dir=tmp_path / "cache", seed=3)
    fold = get_fold(syn, "loso", 2)
    assert set(row) == ROW_KEYS and row["macs"] is None and row["params"] == 3 * 88 + 3
    assert row["C"] in C_GRID and row["search_s"] >= 0 and row["train_s"] >= 0
    p = pd.read_csv(tmp_path / "run" / "predictions.csv")
    assert list(p.columns) == ["utt", "part", "label", "pred"]
    assert p[p.part == "valid"].utt.tolist() == list(fold.valid) and p[p.part == "test"].utt.tolist() == list(fold.test)
    idx = {l: i for i, l in enumerate(syn.labels)}
    t = p[p.part == "test"]
    assert t.label.map(idx).tolist() == row["label"] and t.pred.map(idx).tolist() == row["pred"] and row["n"] == len(t)
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["test"]["ua"] == row["ua"] and m["select"] == "valid_ua" and m["refit"] == "train"
    assert {"valid", "test", "params", "macs", "C", "valid_ua", "features"} <= set(m)
    assert egemaps_job(syn, 2, tmp_path / "again", cache_dir=tmp_path / "cache", seed=3)["pred"] == row["pred"]


def test_a_fold_without_valid_speakers_is_refused(syn, tmp_path):
    fold = get_fold(syn, "loso", 0)
    with pytest.raises(ValueError, match="empty valid part"):
        egemaps_job(syn, Fold("x", fold.train + fold.valid, (), fold.test), tmp_path, cache_dir=tmp_path / "cache")
