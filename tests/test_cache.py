"Feature cache: second run computes nothing, changes recompute only what changed, crashes and damage never read back."
import dataclasses, os, sys, textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import forked
import soundfile as sf

from emodarts_nb.cache import FeatureCache, default_cache_dir, extract_corpus
from emodarts_nb.core import CorpusError, file_sha256
from emodarts_nb.features import get_preset, vowel

CFG = get_preset("cpu", max_seconds=0.6)


@dataclasses.dataclass
class Tiny:
    name: str
    table: pd.DataFrame


@pytest.fixture
def tiny(tmp_path):
    root = tmp_path / "wavs"; root.mkdir()
    paths = []
    for i in range(6):
        paths.append(root / f"s{i}.{'flac' if i % 2 else 'wav'}")
        sf.write(paths[-1], vowel(0.3 + 0.1 * i, f0=100 + 30 * i, seed=i), 16000)
    return Tiny("tiny", pd.DataFrame({"utt": [f"u{i}" for i in range(6)], "path": [str(p) for p in paths]}))


def run(c, cache, cfg=CFG, **kw):
    return extract_corpus(c, cfg, cache, progress=False, **kw)


def test_second_run_computes_nothing_and_returns_same_arrays(tiny, tmp_path):
    a = run(tiny, tmp_path / "c")
    b = run(tiny, tmp_path / "c")
    assert (a.computed, a.cached, b.computed, b.cached) == (6, 0, 0, 6)
    assert list(b.feats) == tiny.table["utt"].tolist()
    for u in a.feats: np.testing.assert_array_equal(a.feats[u], b.feats[u])
    assert (a.cache_dir / "config.json").exists() and "n_mels" in (a.cache_dir / "config.json").read_text()


def test_changed_file_or_setting_recomputes_only_that(tiny, tmp_path):
    run(tiny, tmp_path / "c")
    sf.write(tiny.table.path[2], vowel(0.5, f0=333), 16000)
    assert run(tiny, tmp_path / "c").computed == 1
    assert run(tiny, tmp_path / "c", cfg=get_preset("cpu", max_seconds=0.6, norm="utterance", name="x")).computed == 0
    assert run(tiny, tmp_path / "c", cfg=get_preset("cpu", max_seconds=0.6, n_mels=40)).computed == 6
    moved = Tiny("moved", tiny.table.assign(utt=lambda t: "v" + t.utt))      # same contents, other ids: all cached
    assert run(moved, tmp_path / "c").cached == 6


def test_killed_writer_leaves_nothing_that_is_read_back(tiny, tmp_path):
    "A real process is killed (os._exit) in the middle of writing an array; the next run recomputes that array."
    cache = tmp_path / "c"
    script = textwrap.dedent(f"""
        import os, dataclasses, numpy as np, pandas as pd
        from emodarts_nb.cache import extract_corpus
        from emodarts_nb.features import get_preset
        real = np.save
        def dying_save(f, arr, *a, **k):
            f.write(b"\\x93NUMPY\\x01\\x00v\\x00{{'descr': '<f4', 'fortran_order': False, 'shape': (64, 66)")
            f.flush(); os._exit(9)                     # killed half-way through the first write
        np.save = dying_save
        @dataclasses.dataclass
        class Tiny: name: str; table: pd.DataFrame
        t = pd.DataFrame({{"utt": {tiny.table.utt.tolist()!r}, "path": {tiny.table.path.tolist()!r}}})
        extract_corpus(Tiny("tiny", t), get_preset("cpu", max_seconds=0.6), {str(cache)!r}, progress=False)
    """)
    r = forked.run([sys.executable, "-c", script])
    assert r.returncode == 9, r.stderr
    leftovers = [p for p in cache.rglob("*") if p.is_file() and p.name != "config.json"]
    assert leftovers and all(p.name.startswith(".") and p.name.endswith(".tmp") for p in leftovers)  # only temp files
    f = run(tiny, cache)
    assert (f.computed, f.cached, f.repaired) == (6, 0, [])
    assert not any(p.exists() for p in leftovers)              # the dead writer's temporary file is swept
    assert not [p for p in cache.rglob("*.tmp")]
    assert run(tiny, cache).cached == 6


def test_atomic_write_killed_midway_then_next_write_cleans_up(tmp_path):
    "A process killed by SIGKILL inside atomic_write leaves a recognisable .tmp; the next write to it removes it."
    from emodarts_nb.core import atomic_write, remove_stale_tmp
    target = tmp_path / "run" / "history.csv"
    script = f"""
import os, signal
from emodarts_nb.core import atomic_write
with atomic_write({str(target)!r}, "w") as f:
    f.write("epoch,loss\\n1,")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""
    r = forked.run([sys.executable, "-c", script])
    assert r.returncode == -9, r.stderr
    left = list(target.parent.glob(".*.tmp"))
    assert len(left) == 1 and left[0].name.startswith(".history.csv.emodarts-") and not target.exists()
    other = target.parent / f".other.csv.emodarts-{os.getpid()}-abc.tmp"   # a live writer's file: never touched
    other.write_text("")
    with atomic_write(target, "w") as f: f.write("epoch,loss\n")
    assert not left[0].exists() and other.exists() and target.read_text() == "epoch,loss\n"
    assert remove_stale_tmp(target.parent) == []


def test_damaged_cache_files_are_reported_and_recomputed(tiny, tmp_path):
    a = run(tiny, tmp_path / "c")
    fc = FeatureCache(tmp_path / "c", CFG)
    shas = [file_sha256(p) for p in tiny.table.path]
    fc.path(shas[0]).write_bytes(fc.path(shas[0]).read_bytes()[:100])               # truncated .npy
    fc.path(shas[1]).write_bytes(b"garbage")                                         # not an .npy at all
    np.save(fc.path(shas[2]), np.zeros((3, 3), np.float32))                          # wrong shape
    np.save(fc.path(shas[3]), np.full((64, 66), np.nan, np.float32))                 # NaN
    with pytest.warns(UserWarning, match="damaged feature cache entry"):
        b = run(tiny, tmp_path / "c")
    assert (b.computed, b.cached, len(b.repaired)) == (4, 2, 4)
    assert "repaired 4" in b.summary()
    for u in a.feats: np.testing.assert_allclose(a.feats[u], b.feats[u])


def test_bad_files_strict_and_lenient(tiny, tmp_path, capsys):
    root = Path(tiny.table.path[0]).parent
    (root / "empty.wav").write_bytes(b"")
    (root / "text.wav").write_text("not audio\n" * 50)
    sf.write(root / "silent.wav", np.zeros(16000, np.float32), 16000)
    sf.write(root / "short.wav", vowel(0.01), 16000)                                 # 10 ms < one 25-ms window
    sf.write(root / "nan.wav", np.r_[vowel(0.2), np.nan].astype(np.float32), 16000, subtype="FLOAT")
    names = ["empty.wav", "text.wav", "silent.wav", "short.wav", "nan.wav", "missing.wav"]
    t = pd.concat([tiny.table, pd.DataFrame({"utt": names, "path": [str(root / n) for n in names]})], ignore_index=True)
    bad = Tiny("bad", t)
    with pytest.raises(CorpusError) as e:
        run(bad, tmp_path / "c")
    msg = str(e.value)
    assert "6 problem(s)" in msg
    for n, why in zip(names, ["empty", "not a readable", "silent", "too short", "NaN", "file not found"]):
        assert f"{n}: " in msg and why in msg, n
    f = run(bad, tmp_path / "c", strict=False)
    assert len(f) == 6 and f.problems.bad_utts() == set(names) and f.cached == 6      # good ones cached by the strict run
    err = capsys.readouterr().err
    assert "left out" in err and "silent.wav" in err


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("EMODARTS_CACHE", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("EMODARTS_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "emodarts_nb" / "features"


def test_progress_bar_goes_to_stderr(tiny, tmp_path, capsys):
    extract_corpus(tiny, CFG, tmp_path / "c", progress=True)
    assert "features of tiny" in capsys.readouterr().err


def test_emodb_subset_cold_then_warm(emodb, tmp_path):
    files = sorted(emodb.glob("*.wav"))[:24]
    c = Tiny("emodb24", pd.DataFrame({"utt": [p.stem for p in files], "path": [str(p) for p in files]}))
    cold = run(c, tmp_path / "c", cfg=get_preset("emodarts"))
    warm = run(c, tmp_path / "c", cfg=get_preset("emodarts"))
    assert (cold.computed, warm.cached, len(warm.problems)) == (24, 24, 0)
    assert all(a.shape == (128, 128) for a in warm.feats.values())


def test_cache_under_a_file_is_refused(tiny, tmp_path):
    from emodarts_nb.core import BadInputError
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(BadInputError, match=r"feature cache .*notes.txt/cache: runs under .*notes.txt, which is"):
        run(tiny, tmp_path / "notes.txt" / "cache")
