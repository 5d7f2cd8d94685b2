"Front-end checked against librosa (filters, dB, deltas, MFCC, log-mel, spectrogram), EmoDB, and the frontend hook."
import numpy as np
import pytest
import torch

from emodarts_nb.features import (FeatureConfig, apply_norm, cut_segments, delta, dct_matrix, extract_waves, fit_norm,
                                  get_preset, mel_filterbank, n_features, n_frames, power_spectrogram, power_to_db, vowel)

librosa = pytest.importorskip("librosa")
# one worker for every test that calls librosa: in a fresh environment, its first use compiles its numba functions
# (about 17 s of CPU), and two workers doing so at once took 24 s each
pytestmark = pytest.mark.xdist_group("librosa")


@pytest.mark.parametrize("sr,n_fft,n_mels,fmin,fmax", [(32750, 2048, 128, 0, None), (16000, 512, 64, 50, 8000),
                                                       (22050, 1024, 40, 20, 4000), (8000, 256, 26, 0, None)])
def test_mel_filterbank_matches_librosa(sr, n_fft, n_mels, fmin, fmax):
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    ours = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    assert ours.dtype == ref.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-9)


def test_power_to_db_matches_librosa_per_utterance():
    rng = np.random.default_rng(0)
    S = (rng.random((3, 20, 30)) ** 8 * np.array([1.0, 1e-3, 1e-9])[:, None, None]).astype(np.float32)
    ours = power_to_db(torch.from_numpy(S)).numpy()
    for b in range(3):
        np.testing.assert_allclose(ours[b], librosa.power_to_db(S[b]), atol=1e-4)


def test_dct_matches_scipy():
    import scipy.fft
    x = np.random.default_rng(1).normal(size=(128, 7))
    np.testing.assert_allclose(dct_matrix(40, 128).double().numpy() @ x, scipy.fft.dct(x, type=2, norm="ortho", axis=0)[:40], atol=1e-6)


@pytest.mark.parametrize("T", [9, 10, 57])
def test_delta_matches_librosa(T):
    x = np.random.default_rng(T).normal(size=(5, T)).astype(np.float32)
    np.testing.assert_allclose(delta(torch.from_numpy(x)).numpy(), librosa.feature.delta(x, width=9, mode="interp"), atol=1e-5)


def _lib_mfcc(y, c):
    return librosa.feature.mfcc(y=y, sr=c.sr, n_mfcc=c.n_mfcc, n_fft=c.n_fft, hop_length=c.hop_length,
                                win_length=c.win_length, n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax)  # top_db 80


def mfcc_bound(w, c):
    "Per coefficient and frame, how far float32 rounding can move our MFCC: |DCT| times the log-mel bands' dB bounds."
    P, dP = rounding_bound(w, c, mel_filterbank(c.sr, c.n_fft, c.n_mels, c.fmin, c.fmax))
    b = np.abs(dct_matrix(c.n_mfcc, c.n_mels).double().numpy()) @ db_bound(P, dP, c.top_db)   # (n_mfcc, T)
    assert np.isfinite(b).all()
    db = 10 * np.log10(np.maximum(P, 1e-10))
    fft_dct = (np.log2(c.n_mels) + 2) * (1 + 4 * np.sqrt(2)) * U32 * np.linalg.norm(db, axis=0)  # librosa's float32 DCT
    return b + fft_dct + 4 * U32 * np.abs(dct_matrix(c.n_mfcc, c.n_mels).double().numpy() @ db)  # + float32 outputs


@pytest.mark.parametrize("sr,f0", [(16000, 110), (32750, 220), (22050, 300)])
def test_mfcc_matches_librosa_on_vowels(sr, f0):
    c = FeatureConfig(sr=sr, kind="mfcc", n_fft=2048, hop_length=512, n_mels=128, n_mfcc=128)
    waves = [vowel(s, sr=sr, f0=f0, seed=i) for i, s in enumerate([1.3, 0.6, 2.0])]
    for w, ours in zip(waves, extract_waves(waves, c)):
        ref = _lib_mfcc(w, c)
        assert ours.shape == ref.shape
        assert (np.abs(ours - ref) <= mfcc_bound(w, c)).all()


def test_mfcc_deltas_match_librosa():
    c = FeatureConfig(sr=16000, kind="mfcc", n_fft=512, win_length=400, hop_length=160, n_mels=40, n_mfcc=13, deltas=2)
    w = vowel(1.0)
    ours = extract_waves([w], c)[0]
    m = _lib_mfcc(w, c)
    d1 = librosa.feature.delta(m, width=9, mode="interp")
    ref = np.concatenate([m, d1, librosa.feature.delta(d1, width=9, mode="interp")])   # ΔΔ = delta of Δ
    assert ours.shape == (39, 101) == ref.shape
    b = mfcc_bound(w, c).max(1, keepdims=True)     # a delta's weights k/60 (k = -4..4) sum to 1/3 in absolute value
    bound = np.concatenate([b, b / 3, b / 9]) + 1e-5   # + float32 rounding of the delta sums themselves
    assert (np.abs(ours - ref) <= bound).all()


U32 = float(np.finfo(np.float32).eps) / 2          # unit roundoff of float32


def rounding_bound(w, cfg, fb=None):
    """(P, dP): the exact power (float64; mel bands when `fb` is given) of the 1-D wave `w` and a bound on how far
    float32 arithmetic alone can move our value from it. The float32 STFT's rounding is measured on this very input
    (the same STFT in float64 gives |P32 - P64|), doubled for batch-dependent operation order; a float32 sum of K
    non-negative terms (the mel projection) adds at most K*u relative. So the bound follows from the input, not
    from the machine the test was written on: bins ~100 dB below the peak are rounding noise and get a wide bound."""
    x = torch.from_numpy(np.asarray(w, np.float32))[None]
    P64 = power_spectrogram(x.double(), cfg)[0].numpy()                          # (K, T)
    dP = 2 * np.abs(power_spectrogram(x, cfg)[0].double().numpy() - P64) + 4 * U32 * P64
    if fb is None: return P64, dP
    fb = np.asarray(fb, np.float64)
    return fb @ P64, fb @ dP + fb.shape[1] * U32 * (fb @ P64)                  # (n_mels, T)


def db_bound(P, dP, top_db=None, amin=1e-10):
    "Per bin, the largest dB difference that a power error of at most `dP` allows (inf where it may swamp the bin)."
    Pc = np.maximum(P, amin)
    rel = np.minimum(dP / Pc, 1.0)
    # + the float32 dB values on both sides: a log10 and a product, at most 2 ulp each (1 ulp <= 2u|x|)
    b = np.where(rel < 1, -10 * np.log10(1 - rel), np.inf) + 8 * U32 * np.abs(10 * np.log10(Pc))
    if top_db is None: return b
    k = np.argmax(P)                    # the floor (peak - top_db) moves with the peak: a floor bin errs as it does
    floor = 10 * np.log10(P.flat[k]) - top_db - b.flat[k]
    return np.where(10 * np.log10(np.maximum(P + dP, amin)) <= floor, b.flat[k], np.maximum(b, b.flat[k]))


def assert_db_close(ours, ref, P, dP, top_db=None):
    "`ours` (dB) equals librosa's `ref` within what float32 rounding allows bin by bin; noise-swamped bins in power."
    b = db_bound(P, dP, top_db)
    fin = np.isfinite(b)
    assert (np.abs(ours - ref)[fin] <= b[fin]).all(), np.abs(ours - ref)[fin].max()
    assert (np.abs(10 ** (ours[~fin] / 10.0) - np.maximum(P[~fin], 1e-10)) <= dP[~fin] + 1e-10).all()
    return b


def test_float64_stft_matches_librosa():
    "The algorithm itself (window, centring, framing), free of float32 rounding: equal to librosa's to 1e-9."
    c = get_preset("wu2022")
    w = vowel(0.8, f0=150)
    P64 = power_spectrogram(torch.from_numpy(w)[None].double(), c)[0].numpy()
    ref = np.abs(librosa.stft(w.astype(np.float64), n_fft=640, hop_length=160, win_length=640)) ** 2  # complex128
    np.testing.assert_allclose(P64, ref, rtol=1e-9, atol=1e-9 * ref.max())


def test_cpu_logmel_matches_librosa():
    c = get_preset("cpu", time_pool=1)
    w = vowel(1.7, f0=180)
    ours = extract_waves([w], c)[0]
    y = np.pad(w, (0, 48000 - len(w)))
    S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=64, fmin=50, fmax=8000)
    ref = librosa.power_to_db(S, top_db=80)
    assert ours.shape == ref.shape == (64, 301)
    P, dP = rounding_bound(y, c, mel_filterbank(16000, 512, 64, 50, 8000))
    b = assert_db_close(ours, ref, P, dP, top_db=80)
    assert b[ref > ref.max() - 60].max() < 1e-3                  # where it is loud, the bound is tight


def test_wu2022_spectrogram_matches_librosa():
    c = get_preset("wu2022")
    w = vowel(0.8, f0=150)
    ours = extract_waves([w], c)[0]
    ref = librosa.power_to_db(np.abs(librosa.stft(w, n_fft=640, hop_length=160, win_length=640)) ** 2, top_db=None)
    assert ours.shape == ref.shape == (321, 81)
    b = assert_db_close(ours, ref, *rounding_bound(w, c))
    assert b[ref > ref.max() - 60].max() < 1e-3


def official_emodarts(y, sr=32750, seconds=8):
    "prepare-dataset/audio_utils.py of jayaneetha/emoDARTS: first 8 s (float64 zero padding), MFCC 128, (1, 4) max-pool."
    n = seconds * sr
    y = y[:n] if len(y) >= n else np.hstack((y, np.zeros(n - len(y))))
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=128)
    return m.reshape(128, 128, 4).max(-1)


def test_emodarts_preset_matches_official_code_synthetic():
    waves = [vowel(s, sr=32750, f0=f, seed=i) for i, (s, f) in enumerate([(0.3, 100), (2.5, 200), (8.6, 140)])]
    c = get_preset("emodarts")
    for w, ours in zip(waves, extract_waves(waves, c)):
        assert ours.shape == (128, 128)
        y = np.pad(w[:8 * 32750], (0, max(8 * 32750 - len(w), 0)))
        bound = mfcc_bound(y, c)[:, :512].reshape(128, 128, 4).max(-1)    # max-pooling moves a value by at most this
        assert (np.abs(ours - official_emodarts(w)) <= bound).all()


def test_emodarts_preset_matches_official_code_on_emodb(emodb):
    from emodarts_nb.audio import read_audio
    files = sorted(emodb.glob("*.wav"))[::20]                   # 27 files; bench/features.py checks all 535
    waves = [read_audio(p, 32750)[0] for p in files]
    ours = extract_waves(waves, get_preset("emodarts"))
    worst = max(np.abs(o - official_emodarts(librosa.load(p, sr=32750)[0])).max() for o, p in zip(ours, files))
    assert worst <= 1e-3, worst


def test_padding_shortcut_equals_full_padding_any_batch():
    rng = np.random.default_rng(3)
    waves = [vowel(float(s), f0=float(f), seed=i) for i, (s, f) in enumerate(zip(rng.uniform(0.05, 2.5, 7), rng.uniform(90, 300, 7)))]
    c = get_preset("cpu", kind="mfcc", n_mfcc=30, max_seconds=2.0, deltas=1)
    full = get_preset("cpu", kind="mfcc", n_mfcc=30, max_seconds=None, deltas=1)
    ref = extract_waves([np.pad(w, (0, max(32000 - len(w), 0)))[:32000] for w in waves], full)
    for bs in (1, 3, 32):
        for o, r in zip(extract_waves(waves, c, batch_size=bs), ref):
            assert o.shape == r.shape == (60, 67)
            np.testing.assert_allclose(o, r, atol=1e-3)


def test_custom_frontend_hook():
    c = get_preset("cpu", max_seconds=1.0)
    waves = [vowel(0.5), vowel(1.5, f0=200)]
    fe = lambda x: torch.log1p(power_spectrogram(x, c))[:, :10]   # any (B, N) -> (B, F, T) torch callable
    out = extract_waves(waves, c, frontend=fe)
    assert [o.shape for o in out] == [(10, 33), (10, 33)]       # padded to 1 s, pooled by 3
    assert out[0][:, -5:].max() == 0.0                           # the zero padding: log1p(0)


def test_torchaudio_mfcc_as_frontend():
    try:
        import torchaudio
    except Exception as e:  # the PyPI wheel is CUDA-linked: it fails on the CPU torch unless its lib/*.so are removed
        pytest.skip(f"torchaudio does not import here ({type(e).__name__}: {str(e)[:120]})")
    c = get_preset("emodarts")
    t = torchaudio.transforms.MFCC(sample_rate=c.sr, n_mfcc=128, log_mels=False, melkwargs=dict(
        n_fft=2048, hop_length=512, n_mels=128, center=True, pad_mode="constant", norm="slaney", mel_scale="slaney"))
    waves = [vowel(2.0, sr=c.sr)]
    ta = extract_waves(waves, c, frontend=t)[0]
    assert ta.shape == (128, 128)
    ours = extract_waves(waves, c)[0]
    assert np.corrcoef(ta[0], ours[0])[0, 1] > 0.99              # torchaudio's top_db floor differs slightly


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_matches_cpu():
    waves = [vowel(1.0, sr=32750), vowel(3.0, sr=32750, f0=200)]
    c = get_preset("emodarts")
    for a, b in zip(extract_waves(waves, c, device="cuda"), extract_waves(waves, c, device="cpu")):
        np.testing.assert_allclose(a, b, atol=1e-2)


def test_shapes_follow_config():
    for name in ("emodarts", "cpu"):
        c = get_preset(name)
        o = extract_waves([vowel(0.3, sr=c.sr)], c)[0]
        assert o.shape == (n_features(c), n_frames(c)) and o.dtype == np.float32


def test_segments_and_norm_from_training_speakers_only():
    rng = np.random.default_rng(0)
    feats = [rng.normal(i, 1 + i, (4, T)) for i, T in enumerate([250, 90, 430])]
    S, idx = cut_segments(feats, 200, 100)
    assert S.shape == (2 + 1 + 4, 4, 200) and idx.tolist() == [0, 0, 1, 2, 2, 2, 2]
    np.testing.assert_allclose(S[1], feats[0][:, 50:250], rtol=1e-6)  # tail-aligned last segment
    st = fit_norm(feats[:2], mode="train")                       # training arrays only
    out = apply_norm(feats, st)
    np.testing.assert_allclose(out[2], (feats[2] - st.mean["*"]) / st.std["*"], atol=1e-5)  # test data: train statistics
    allt = np.concatenate(out[:2], -1)
    np.testing.assert_allclose(allt.mean(-1), 0, atol=1e-6)
    np.testing.assert_allclose(allt.std(-1), 1, atol=1e-6)
