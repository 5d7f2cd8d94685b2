"""Benchmark: the `emodarts` feature preset over all of EmoDB, this project versus librosa, and cold versus warm cache.

Reproduce (from the repository root):  OMP_NUM_THREADS=1 .venv/bin/python bench/features.py --emodb PATH --repeats 3
(PATH: the EmoDB folder; default $EMODARTS_SHARED_DATA/emodb). Prints figures only; it asserts nothing about time.
"""
import argparse, dataclasses, os, shlex, statistics, sys, tempfile, time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from emodarts_nb.audio import read_audio
from emodarts_nb.cache import extract_corpus
from emodarts_nb.features import extract_waves, get_preset


@dataclasses.dataclass
class Files:  # the two fields of a corpus that extract_corpus reads
    name: str
    table: pd.DataFrame


def official(path, librosa, sr=32750, seconds=8):
    "jayaneetha/emoDARTS prepare-dataset/audio_utils.py: librosa.load, first 8 s (zero-padded), MFCC 128, (1, 4) max-pool."
    y, _ = librosa.load(path, sr=sr)
    n = seconds * sr
    y = y[:n] if len(y) >= n else np.hstack((y, np.zeros(n - len(y))))
    return librosa.feature.mfcc(y=y, sr=sr, n_mfcc=128).reshape(128, 128, 4).max(-1)


def librosa_f32(path, librosa, sr=32750, seconds=8):
    "The same with float32 zero padding (the official code pads with float64 zeros, so librosa then works in float64)."
    y, _ = librosa.load(path, sr=sr)
    y = librosa.util.fix_length(y, size=seconds * sr)
    return librosa.feature.mfcc(y=y, sr=sr, n_mfcc=128).reshape(128, 128, 4).max(-1)


def timed(fn):
    t = time.perf_counter(); out = fn(); return time.perf_counter() - t, out


def emodb_files(d: Path | None, limit: int | None) -> list[Path]:
    "The .wav files of the EmoDB folder `d` (flat, or in wav/ as the original zip has them); exits saying what to pass."
    if d is None:
        sys.exit("give the EmoDB folder: --emodb PATH (or set EMODARTS_SHARED_DATA to the folder that holds emodb/)")
    if not d.is_dir(): sys.exit(f"EmoDB folder not found: {d} (pass --emodb PATH)")
    files = sorted(d.glob("*.wav")) or sorted(d.glob("wav/*.wav"))
    if not files: sys.exit(f"no .wav files in {d} or {d / 'wav'} (pass --emodb PATH, the folder of 03a01Fa.wav ...)")
    return files[:limit]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get("EMODARTS_SHARED_DATA")
    ap.add_argument("--emodb", type=Path, default=Path(env).expanduser() / "emodb" if env else None,
                    help="the EmoDB folder (default: $EMODARTS_SHARED_DATA/emodb)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None, help="only the first N files (a quick check; default: all)")
    a = ap.parse_args(argv)
    print(f"command: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '<unset>')} {sys.executable} bench/features.py "
          f"{shlex.join(sys.argv[1:] if argv is None else argv)}")
    files = emodb_files(a.emodb, a.limit)
    import librosa
    cfg = get_preset("emodarts")
    print(f"{len(files)} files from {a.emodb}; preset 'emodarts' -> (128, 128); "
          f"torch threads {torch.get_num_threads()}, CPU cores {os.cpu_count()}")
    librosa.feature.mfcc(y=np.random.default_rng(0).normal(size=8000).astype(np.float32), sr=32750, n_mfcc=128)  # numba JIT

    t_lib, t_l32, t_ours, t_read, ref, ours = [], [], [], [], None, None
    for r in range(a.repeats):
        t, ref = timed(lambda: [official(p, librosa) for p in files]); t_lib.append(t)
        t_l32.append(timed(lambda: [librosa_f32(p, librosa) for p in files])[0])
        t0, waves = timed(lambda: [read_audio(p, cfg.sr)[0] for p in files])
        t1, ours = timed(lambda: extract_waves(waves, cfg))
        t_read.append(t0); t_ours.append(t0 + t1)
        print(f"  run {r + 1}: librosa {t:.2f} s (float32 padding {t_l32[-1]:.2f} s), "
              f"emodarts_nb {t0 + t1:.2f} s (read+resample {t0:.2f} s)")
    diff = max(float(np.abs(o - l).max()) for o, l in zip(ours, ref))
    ml, mo = statistics.median(t_lib), statistics.median(t_ours)
    print(f"librosa load + MFCC (official code): {ml:.2f} s (median of {a.repeats})")
    print(f"emodarts_nb read_audio + extract_waves: {mo:.2f} s (median; read+resample {statistics.median(t_read):.2f} s)")
    print(f"librosa with float32 padding: {statistics.median(t_l32):.2f} s (median): speed-up {statistics.median(t_l32) / mo:.2f}x")
    print(f"speed-up vs the official code: {ml / mo:.2f}x   max |difference| vs librosa: {diff:.2e} dB-scale MFCC units")

    corpus = Files("emodb", pd.DataFrame({"utt": [p.stem for p in files], "path": [str(p) for p in files]}))
    cold, warm = [], []
    for r in range(a.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            tc, fc = timed(lambda: extract_corpus(corpus, cfg, tmp, progress=False))
            tw, fw = timed(lambda: extract_corpus(corpus, cfg, tmp, progress=False))
            assert (fc.computed, fw.cached) == (len(files), len(files)), (fc.summary(), fw.summary())
            cold.append(tc); warm.append(tw)
    mc, mw = statistics.median(cold), statistics.median(warm)
    print(f"cache: cold {mc:.2f} s, warm {mw:.3f} s (medians, fresh temporary cache dir each run): warm is {mc / mw:.0f}x faster")


if __name__ == "__main__":
    main()
