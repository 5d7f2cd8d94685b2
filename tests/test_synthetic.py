"The built-in synthetic corpus: deterministic, cached, and emotional in the way it was designed to be."
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emodarts_nb.core import BadInputError
from emodarts_nb.corpus import load_corpus
from emodarts_nb.synthetic import EMOTIONS, make_synthetic, synthetic_dir, synthetic_params, voice_stats

SMALL = dict(n_speakers=4, n_per_class=2, classes=("neutral", "angry"), seconds=0.5)


def _bytes(c): return [open(p, "rb").read() for p in c.table.path]


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b = make_synthetic(tmp_path / "a", **SMALL), make_synthetic(tmp_path / "b", **SMALL)
    assert a.utts == b.utts and _bytes(a) == _bytes(b)
    c = make_synthetic(tmp_path / "c", seed=1, **SMALL)
    assert all(x != y for x, y in zip(_bytes(a), _bytes(c)))


def test_layout_and_manifest(tmp_path):
    c = make_synthetic(tmp_path, **SMALL)
    m = pd.read_csv(tmp_path / "manifest.csv")
    assert list(m.columns) == ["utt", "path", "speaker", "gender", "session", "label", "duration"]
    assert len(c) == 4 * 2 * 2 and c.labels == ("neutral", "angry")
    assert sorted(c.table.groupby("gender").speaker.nunique().items()) == [("F", 2), ("M", 2)]
    info = sf.info(c.table.path[0])
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 8000)
    assert c.table.duration.tolist() == [0.5] * len(c)


def test_complete_folder_is_reused_and_incomplete_one_regenerated(tmp_path):
    c = make_synthetic(tmp_path, **SMALL)
    mtimes = [p.stat().st_mtime_ns for p in tmp_path.rglob("*.wav")]
    again = make_synthetic(tmp_path, **SMALL)
    assert again.info["reused"] and [p.stat().st_mtime_ns for p in tmp_path.rglob("*.wav")] == mtimes
    (tmp_path / "manifest.csv").unlink()                         # as if a run had been killed before the end
    first = c.table.path[0]; open(first, "wb").close()           # and left a broken file behind
    redo = make_synthetic(tmp_path, **SMALL)
    assert not redo.info["reused"] and sf.info(first).frames == 8000
    with pytest.raises(BadInputError, match="other parameters"):
        make_synthetic(tmp_path, n_speakers=2, seconds=0.5)


def test_default_folder_and_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("EMODARTS_DATA", str(tmp_path))
    c = load_corpus("synthetic", **SMALL)
    assert c.root == synthetic_dir(synthetic_params(**SMALL)) and c.root.parent == tmp_path / "synthetic"
    assert (c.root / "manifest.csv").is_file() and load_corpus("synthetic", **SMALL).info["reused"]


def test_a_path_given_is_used_never_ignored(tmp_path):
    "load_corpus('synthetic', PATH) makes the corpus in PATH (or reuses it there); a path it cannot use is refused."
    c = load_corpus("synthetic", tmp_path / "here", **SMALL)
    assert c.root == tmp_path / "here" and (tmp_path / "here" / "manifest.csv").is_file()
    assert all(p.startswith(str(tmp_path / "here")) for p in c.table.path)
    assert load_corpus("synthetic", tmp_path / "here", **SMALL).info["reused"]
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(BadInputError, match=r"synthetic corpus folder .*notes.txt/syn: runs under .*notes.txt, which"):
        load_corpus("synthetic", tmp_path / "notes.txt" / "syn", **SMALL)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(BadInputError, match="is not empty and holds no synthetic corpus"):
        load_corpus("synthetic", tmp_path / "mine", **SMALL)


def test_clips_of_a_killed_run_are_swept(tmp_path):
    import subprocess
    c = make_synthetic(tmp_path, **SMALL)
    (tmp_path / "manifest.csv").unlink()                         # a run killed before the end...
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / "wav" / "spk01" / f".spk01_neutral_01.wav.emodarts-{gone.pid}-wav.tmp"
    stale.write_bytes(b"RIFF")                                   # ...while writing a clip
    make_synthetic(tmp_path, **SMALL)
    assert not stale.exists() and not list(tmp_path.rglob("*.tmp")) and len(c) == 16


def test_bad_parameters():
    with pytest.raises(BadInputError, match="choose from"): synthetic_params(classes=("neutral", "joy"))
    with pytest.raises(BadInputError, match="at least 0.3 s"): synthetic_params(seconds=(0.1, 1.0))
    with pytest.raises(BadInputError, match="at least 1"): synthetic_params(n_speakers=0)


@pytest.fixture(scope="module")
def stats(tmp_path_factory):
    "Acoustic statistics of a 6-speaker, 4-class, 4-clip corpus of 1 s clips."
    c = make_synthetic(tmp_path_factory.mktemp("syn"), n_speakers=6, n_per_class=4, seconds=1.0)
    st = pd.DataFrame([voice_stats(sf.read(p, dtype="float32")[0], 16000) for p in c.table.path])
    return pd.concat([c.table[["speaker", "gender", "label"]], st], axis=1)


def test_classes_differ_as_designed(stats):
    rms = stats.groupby("label").rms_db.mean()
    assert rms["angry"] > rms["happy"] > rms["neutral"] > rms["sad"]
    rel = (stats.f0_hz / stats.groupby("speaker").f0_hz.transform("median")).groupby(stats.label).mean()
    assert rel["happy"] > rel["neutral"] > rel["sad"] and rel["angry"] > rel["neutral"]
    assert set(EMOTIONS) == {"neutral", "happy", "angry", "sad"}


def test_speakers_differ_more_than_emotions_shift_pitch(stats):
    spk = stats.groupby("speaker").agg(f0=("f0_hz", "median"), g=("gender", "first"))
    assert spk[spk.g == "F"].f0.min() > 1.4 * spk[spk.g == "M"].f0.max()
    # absolute pitch does not give the emotion away: a woman's sad clips are higher than a man's angry ones
    assert stats[(stats.gender == "F") & (stats.label == "sad")].f0_hz.median() > \
           stats[(stats.gender == "M") & (stats.label == "angry")].f0_hz.median()


def test_learnable_across_speakers_but_not_trivially(stats):
    "Nearest class mean on speaker-normalised statistics, leave one speaker out: well above chance, not perfect."
    cols = ["rms_db", "f0_hz", "f0_range_st", "voiced", "centroid_hz"]
    z = stats[cols].fillna(stats[cols].mean())
    z = (z - z.groupby(stats.speaker).transform("mean")) / (z.groupby(stats.speaker).transform("std") + 1e-9)
    correct = []
    for s in stats.speaker.unique():
        te = stats.speaker == s
        mu = z[~te].groupby(stats.label[~te]).mean(); sd = z[~te].std() + 1e-9
        d = (((z[te].values[:, None, :] - mu.values[None]) / sd.values) ** 2).sum(-1)
        correct += list(mu.index[d.argmin(1)] == stats.label[te].values)
    acc = float(np.mean(correct))
    print("nearest-class-mean LOSO accuracy", acc)
    assert 0.45 < acc < 0.98, acc


def test_never_overwrites_a_folder_that_is_not_a_synthetic_corpus(tmp_path):
    (tmp_path / "manifest.csv").write_text("someone else's corpus\n")
    with pytest.raises(BadInputError, match="holds no synthetic corpus"): make_synthetic(tmp_path, **SMALL)
    assert (tmp_path / "manifest.csv").read_text() == "someone else's corpus\n"
