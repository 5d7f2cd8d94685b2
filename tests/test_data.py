"Datasets, loaders, class weights and normalisation for one fold: test data never leaks into training statistics."
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from emodarts_nb.core import BadInputError, CorpusError
from emodarts_nb.corpus import Corpus
from emodarts_nb.data import FeatureDataset, class_weights, prepare_fold
from emodarts_nb.features import get_preset, segment_frames
from emodarts_nb.protocols import get_fold, make_folds

F, T = 6, 20


def toy(n_speakers=4, per_speaker=4, labels=("neu", "ang", "sad")):
    rows = [dict(utt=f"s{i}_{k}", path=f"/x/s{i}_{k}.wav", speaker=f"s{i}", gender="FM"[i % 2], session=None,
                 label=labels[k % len(labels)]) for i in range(n_speakers) for k in range(per_speaker)]
    return Corpus("toy", pd.DataFrame(rows), labels)


def feats(c, norm, seed=0, lengths=None, **cfg):
    rng = np.random.default_rng(seed)
    spk_shift = {s: rng.normal(0, 3, (F, 1)) for s in c.speakers}
    fs = {u: (rng.normal(0, 1, (F, lengths(u) if lengths else T)) + spk_shift[s]).astype(np.float32)
          for u, s in zip(c.table.utt, c.table.speaker)}
    return SimpleNamespace(cfg=get_preset("cpu", norm=norm, **cfg), feats=fs)


@pytest.mark.parametrize("norm", ["train", "speaker", "utterance", None])
def test_test_data_never_moves_training_inputs(norm):
    c = toy(); fold = get_fold(c, "loso", 0)
    a = feats(c, norm)
    b = SimpleNamespace(cfg=a.cfg, feats={u: (x * 50 + 9 if u in fold.test else x) for u, x in a.feats.items()})
    da, db = prepare_fold(c, fold, a), prepare_fold(c, fold, b)
    for p in ("train", "valid"): np.testing.assert_array_equal(da[p].x, db[p].x)
    if norm == "train":   # the test part is normalised with the training statistics, not its own
        tr = np.concatenate([a.feats[u] for u in fold.train], 1)
        m, s = tr.mean(1, keepdims=True), tr.std(1, keepdims=True)
        np.testing.assert_allclose(db["test"].x, np.stack([(b.feats[u] - m) / s for u in fold.test]), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(da["train"].x.transpose(1, 0, 2).reshape(F, -1).mean(1), 0, atol=1e-5)


def test_train_statistics_ignore_validation_speakers():
    c = toy(); fold = get_fold(c, "loso", 0)
    a = feats(c, "train")
    b = SimpleNamespace(cfg=a.cfg, feats={u: (x + 100 if u in fold.valid else x) for u, x in a.feats.items()})
    np.testing.assert_array_equal(prepare_fold(c, fold, a)["train"].x, prepare_fold(c, fold, b)["train"].x)


def test_speaker_norm_is_per_speaker_including_test_speakers():
    c = toy(); fold = get_fold(c, "loso", 0); d = prepare_fold(c, fold, feats(c, "speaker"))
    for p in ("train", "test"):
        part = d[p]
        for s in set(part.speakers):
            x = part.x[np.array(part.speakers) == s]            # (n, F, T) of one speaker
            np.testing.assert_allclose(x.transpose(1, 0, 2).reshape(F, -1).mean(1), 0, atol=1e-4)


def test_items_labels_and_shapes():
    c = toy(); fold = get_fold(c, "loso", 1)
    d = prepare_fold(c, fold, feats(c, None))
    assert d.n_classes == 3 and d.labels == ("neu", "ang", "sad") and d.input_shape == (F, T)
    x, y = d["test"].dataset()[0]
    assert x.shape == (1, F, T) and x.dtype == torch.float32 and y.dtype == torch.int64
    label_of = dict(zip(c.table.utt, c.y))
    assert d["test"].y.tolist() == [label_of[u] for u in fold.test] and d["test"].utts == fold.test


def test_variable_lengths_need_a_config_that_fixes_them():
    c = toy(); fold = get_fold(c, "loso", 0)
    ragged = feats(c, None, lengths=lambda u: T + int(u.split("_")[1]))
    with pytest.raises(BadInputError, match="arrays differ in shape.*max_seconds"): prepare_fold(c, fold, ragged)
    with pytest.raises(BadInputError, match=r"item 1 is \(6, 5\)"): FeatureDataset([np.zeros((6, 4)), np.zeros((6, 5))], [0, 1])


def test_segments_remember_their_utterance():
    c = toy(); fold = get_fold(c, "loso", 0)
    cfg = dict(max_seconds=None, segment_seconds=0.12, segment_hop_seconds=0.06, time_pool=3)   # 4-frame segments, hop 2
    seg, hop = segment_frames(get_preset("cpu", **cfg))
    d = prepare_fold(c, fold, feats(c, "utterance", lengths=lambda u: 8 + int(u.split("_")[1]), **cfg))
    t = d["test"]
    assert d.input_shape == (F, seg) and len(t) > len(t.utts)
    assert sorted(set(t.utt_index.tolist())) == list(range(len(t.utts)))
    np.testing.assert_array_equal(t.y, t.utt_y[t.utt_index])
    assert d.summary().loc["test", "items"] == len(t) and d.summary().loc["test", "total"] == len(t.utts)


def test_loader_is_seeded_and_complete():
    c = toy(8, 5); fold = get_fold(c, "loso", 0, valid_speakers=2); d = prepare_fold(c, fold, feats(c, "train"))
    def order(seed): return torch.cat([y for _, y in d.loader("train", 4, shuffle=True, seed=seed)]).tolist()
    torch.manual_seed(1); a = order(7); torch.manual_seed(2); assert order(7) == a
    assert sorted(a) == sorted(d["train"].y.tolist())
    assert any(order(s) != a for s in range(8, 12))
    xs = [x for x, _ in d.loader("test", 2)]
    assert torch.equal(torch.cat(xs)[:, 0], torch.from_numpy(d["test"].x))          # no shuffle: in order
    assert all(len(y) == 4 for _, y in d.loader("train", 4, drop_last=True))


def test_class_weights():
    w = class_weights([0, 0, 0, 1], 3)
    assert torch.allclose(w, torch.tensor([0.5, 1.5, 0.0])) and w.dtype == torch.float32
    assert torch.allclose(class_weights(np.array([2, 2, 1, 0]), 3), torch.tensor([1.2, 1.2, 0.6]))
    c = toy(); d = prepare_fold(c, get_fold(c, "loso", 0), feats(c, None))
    assert torch.allclose(d.class_weights().mean(), torch.tensor(1.0))


def test_summary_table():
    c = toy(6, 3); fold = make_folds(c, "loso", valid_speakers=2)[0]
    s = prepare_fold(c, fold, feats(c, None)).summary()
    assert list(s.index) == ["train", "valid", "test"] and list(s.columns[:3]) == ["neu", "ang", "sad"]
    assert s.loc["valid", "speakers"] == 2 and s.loc["test", "speakers"] == 1 and s["total"].sum() == len(c)
    assert (s[["neu", "ang", "sad"]].sum(axis=1) == s["total"]).all()


def test_missing_features_named_or_left_out():
    c = toy(); fold = get_fold(c, "loso", 0); f = feats(c, None); gone = fold.test[0]
    f.feats.pop(gone)
    with pytest.raises(CorpusError, match=f"{gone}: no features"): prepare_fold(c, fold, f)
    assert gone not in prepare_fold(c, fold, f, strict=False)["test"].utts


def test_empty_validation_part():
    c = toy(); d = prepare_fold(c, get_fold(c, "loso", 0, valid_speakers=0), feats(c, "train"))
    assert len(d["valid"]) == 0 and d.summary().loc["valid", "total"] == 0
    assert len(list(d.loader("valid", 4))) == 0
