"Metrics: hand-computed cases, properties (UA == WA on balanced parts, chance for constant predictions), fold summaries."
from contextlib import nullcontext

import numpy as np, pandas as pd, pytest

from emodarts_nb.core import BadInputError
from emodarts_nb.metrics import wa, ua, recalls, macro_f1, confusion, evaluate_predictions, fold_metrics, summarise_folds, summary_table


def test_hand_computed():
    y = [0, 0, 0, 0, 1, 1, 2]; p = [0, 0, 0, 1, 1, 0, 2]
    assert wa(y, p) == pytest.approx(5 / 7)
    assert ua(y, p) == pytest.approx((3 / 4 + 1 / 2 + 1) / 3)
    # F1: class 0 P=3/4 R=3/4 -> .75; class 1 P=1/2 R=1/2 -> .5; class 2 -> 1
    assert macro_f1(y, p) == pytest.approx(0.75)
    assert confusion(y, p, 3).tolist() == [[3, 1, 0], [1, 1, 0], [0, 0, 1]]


def test_ua_over_present_classes_unless_labels_given():
    y, p = [0, 0, 1, 1], [0, 1, 1, 1]
    assert ua(y, p) == pytest.approx(0.75)                          # class 2 absent: not averaged
    assert ua(y, p, labels=[0, 1, 2]) == pytest.approx(1.5 / 3)    # listed: recall 0
    assert recalls(y, p) == {0: 0.5, 1: 1.0}


def test_ua_is_not_the_mean_of_batch_uas():
    y = np.array([0, 0, 0, 1, 0, 0, 0, 0]); p = np.array([0, 0, 0, 0, 0, 0, 0, 0])
    batches = [ua(y[i:i + 4], p[i:i + 4]) for i in (0, 4)]
    assert ua(y, p) == pytest.approx(0.5) and np.mean(batches) == pytest.approx(0.75)


@pytest.mark.parametrize("seed", range(10))
def test_properties(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7)); y = np.repeat(np.arange(k), int(rng.integers(1, 9)))   # balanced
    p = rng.integers(0, k, len(y))
    assert ua(y, y) == wa(y, y) == macro_f1(y, y) == 1.0
    assert ua(y, p) == pytest.approx(wa(y, p))                      # balanced: UA == WA
    assert ua(y, np.zeros_like(y)) == pytest.approx(1 / k)          # constant prediction: chance UA
    yu = rng.integers(0, k, 40); pu = rng.integers(0, k, 40)
    cm = confusion(yu, pu, k)
    assert cm.sum() == 40 and np.trace(cm) / 40 == pytest.approx(wa(yu, pu))
    present = cm.sum(1) > 0
    assert ua(yu, pu) == pytest.approx(np.mean(np.diag(cm)[present] / cm.sum(1)[present]))
    assert 0 <= macro_f1(yu, pu) <= 1


def test_bad_inputs():
    with pytest.raises(BadInputError, match="3 labels but 2 predictions"): wa([0, 1, 2], [0, 1])
    with pytest.raises(BadInputError, match="empty"): ua([], [])
    with pytest.raises(BadInputError, match="0..1"): confusion([0, 2], [0, 0], 2)


def test_evaluate_predictions_marks_absent_classes():
    m = evaluate_predictions([0, 0, 1], [0, 1, 1], ("ang", "hap", "sad"))
    assert m["recall"] == {"ang": 0.5, "hap": 1.0, "sad": None} and m["support"] == {"ang": 2, "hap": 1, "sad": 0}
    assert m["ua"] == pytest.approx(0.75) and m["confusion"][2] == [0, 0, 0] and m["n"] == 3


def test_summarise_folds_mean_std_and_pooled():
    # method A: fold 1 perfect on a, b, d; fold 2 lacks d (like EmoDB speaker 08 without disgust)
    rows = [("A", 1, l, q) for l, q in zip("aabbdd", "aabbdd")] + [("A", 2, l, q) for l, q in zip("aabb", "abbb")]
    rows += [("B", 1, l, "a") for l in "aabbdd"] + [("B", 2, l, "a") for l in "aabb"]
    df = pd.DataFrame(rows, columns=["method", "fold", "label", "pred"])
    per = fold_metrics(df).set_index(["method", "fold"])
    assert per.loc[("A", 2), "ua"] == pytest.approx(0.75) and per.loc[("A", 1), "ua"] == 1.0
    s = summarise_folds(df).set_index("method")
    assert s.loc["A", "folds"] == 2
    assert s.loc["A", "ua_mean"] == pytest.approx(0.875) and s.loc["A", "ua_std"] == pytest.approx(np.std([1, .75], ddof=1))
    assert s.loc["A", "ua_pooled"] == pytest.approx((3 / 4 + 1 + 1) / 3)   # pooled: a 3/4, b 4/4, d 2/2
    assert s.loc["A", "wa_pooled"] == pytest.approx(9 / 10)
    assert s.loc["B", "ua_pooled"] == pytest.approx(1 / 3) and s.loc["B", "ua_mean"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    t = summary_table(s.reset_index())
    assert list(t.method) == ["A", "B"] and t.loc[0, "UA"].startswith("87.5 ± ")
    with pytest.raises(BadInputError, match="lacks columns"): summarise_folds(df.drop(columns="pred"))


@pytest.mark.parametrize("seed", range(5))
def test_equal_to_scikit_learn(seed):
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 5, 30), rng.integers(0, 6, 30)        # p may name a class y lacks
    assert wa(y, p) == accuracy_score(y, p)
    with pytest.warns(UserWarning, match="y_pred contains classes not in y_true") if not set(p) <= set(y) else nullcontext():
        assert ua(y, p) == pytest.approx(balanced_accuracy_score(y, p))   # UA is scikit-learn's balanced accuracy
    assert macro_f1(y, p) == pytest.approx(f1_score(y, p, average="macro"))
    assert confusion(y, p, 6).tolist() == confusion_matrix(y, p, labels=range(6)).tolist()


def test_the_package_calls_scikit_learn(monkeypatch):
    "WA, UA, recalls and macro-F1 come from sklearn.metrics (imported on first use): a stubbed library shows through."
    import sklearn.metrics as S, emodarts_nb.metrics as M
    monkeypatch.setattr(S, "accuracy_score", lambda y, p: 0.125)
    monkeypatch.setattr(S, "recall_score", lambda y, p, **k: 0.25 if k["average"] == "macro" else np.full(len(k["labels"]), .5))
    monkeypatch.setattr(S, "f1_score", lambda y, p, **k: 0.75)
    y, p = [0, 1, 1], [0, 1, 0]
    assert (M.wa(y, p), M.ua(y, p), M.macro_f1(y, p), M.recalls(y, p)) == (0.125, 0.25, 0.75, {0: 0.5, 1: 0.5})
