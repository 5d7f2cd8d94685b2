"Audio reading: every format and sample type, resampling like librosa, and every bad file built for real."
import math
import os

import numpy as np
import pytest
import soundfile as sf

from emodarts_nb.audio import MAX_AUDIO_SECONDS, MIN_CLIP_SECONDS, audio_problems, read_audio, read_clip
from emodarts_nb.core import BadInputError

SR = 16000


def tone(n=SR, f=440.0, sr=SR, amp=0.5):
    return (amp * np.sin(2 * np.pi * f * np.arange(n) / sr)).astype(np.float32)


@pytest.mark.parametrize("ext,subtype,tol", [
    ("wav", "PCM_U8", 1e-2), ("wav", "PCM_16", 1e-4), ("wav", "PCM_24", 1e-6), ("wav", "PCM_32", 1e-6),
    ("wav", "FLOAT", 0), ("wav", "DOUBLE", 1e-7), ("flac", "PCM_16", 1e-4), ("flac", "PCM_24", 1e-6),
    ("ogg", "VORBIS", 5e-2)])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_formats_and_channels(tmp_path, ext, subtype, tol, channels):
    y = tone()
    p = tmp_path / f"x.{ext}"
    sf.write(p, np.stack([y] * channels, 1), SR, subtype=subtype)
    w, r = read_audio(p)
    assert (w.dtype, w.shape, r) == (np.float32, (SR,), SR)
    assert np.abs(w - y).max() <= tol + 1e-7
    if channels > 1:
        m, _ = read_audio(p, mono=False)
        assert m.shape == (channels, SR)


def test_mixdown_is_channel_mean(tmp_path):
    a, b = tone(f=300), tone(f=700, amp=0.2)
    sf.write(tmp_path / "s.wav", np.stack([a, b], 1), SR, subtype="FLOAT")
    w, _ = read_audio(tmp_path / "s.wav")
    np.testing.assert_allclose(w, (a + b) / 2, atol=1e-7)


@pytest.mark.xdist_group("librosa")   # with tests/test_features.py: librosa's numba functions compiled once (see there)
@pytest.mark.parametrize("sr0,sr", [(8000, 16000), (44100, 16000), (16000, 32750), (48000, 22050), (22050, 22050)])
def test_resampling_matches_librosa_load(tmp_path, sr0, sr):
    librosa = pytest.importorskip("librosa")
    p = tmp_path / "r.wav"
    sf.write(p, tone(int(0.7 * sr0), f=330, sr=sr0), sr0, subtype="PCM_16")
    ours, r = read_audio(p, sr)
    ref, _ = librosa.load(p, sr=sr)
    assert r == sr and ours.shape == ref.shape == (math.ceil(int(0.7 * sr0) * sr / sr0),)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


@pytest.mark.xdist_group("librosa")
def test_real_emodb_file_equals_librosa_load(emodb):
    librosa = pytest.importorskip("librosa")
    p = sorted(emodb.glob("*.wav"))[0]
    ours, _ = read_audio(p, 32750)
    ref, _ = librosa.load(p, sr=32750)
    np.testing.assert_array_equal(ours, ref)


# --- bad files: each is written for real and must give an error naming the file and the reason -------------------

def _wav_bytes(tmp_path, subtype="PCM_16", ext="wav", fmt=None):
    p = tmp_path / f"src.{ext}"
    sf.write(p, tone(), SR, subtype=subtype, format=fmt)
    return p.read_bytes()


def make_bad(tmp_path, kind):
    p = tmp_path / f"{kind}.wav"
    if kind == "missing": pass
    elif kind == "empty": p.write_bytes(b"")
    elif kind == "text": p.write_text("speaker,label\n03,anger\n" * 20)
    elif kind == "random_bytes": p.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif kind == "header_only": p.write_bytes(_wav_bytes(tmp_path)[:44])
    elif kind == "truncated_half": b = _wav_bytes(tmp_path); p.write_bytes(b[:len(b) // 2])
    elif kind == "truncated_24bit": b = _wav_bytes(tmp_path, "PCM_24"); p.write_bytes(b[:len(b) - 1001])
    elif kind == "truncated_header": p.write_bytes(_wav_bytes(tmp_path)[:30])
    elif kind == "zero_frames": sf.write(p, np.zeros(0, np.float32), SR)
    elif kind == "nan": sf.write(p, np.r_[tone(100), np.nan].astype(np.float32), SR, subtype="FLOAT")
    elif kind == "inf": sf.write(p, np.r_[tone(100), -np.inf].astype(np.float32), SR, subtype="FLOAT")
    elif kind == "directory": p.mkdir()
    elif kind == "broken_link": os.symlink(tmp_path / "gone.wav", p)
    elif kind == "link_loop": os.symlink(p, p)
    elif kind == "fifo": os.mkfifo(p)
    return p


BAD = {"missing": "file not found", "empty": r"empty \(0 bytes\)", "text": "not a readable", "random_bytes": "not a readable",
       "header_only": "truncated", "truncated_half": "truncated", "truncated_24bit": "truncated",
       "truncated_header": "not a readable", "zero_frames": "zero-length", "nan": "1 NaN or inf", "inf": "1 NaN or inf",
       "directory": "a folder, not a file", "broken_link": "broken link: it points to .*gone.wav",
       "link_loop": "link loop", "fifo": "a FIFO"}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_files_are_named_with_reason(tmp_path, kind):
    import re
    p = make_bad(tmp_path, kind)
    with pytest.raises(BadInputError) as e:
        read_audio(p, sr=16000)
    assert e.value.what == str(p) and str(p) in str(e.value)
    assert re.search(BAD[kind], e.value.reason), e.value.reason


def test_truncated_flac_and_ogg(tmp_path):
    for ext, sub in [("flac", "PCM_16"), ("ogg", "VORBIS")]:
        b = _wav_bytes(tmp_path, sub, ext)
        p = tmp_path / f"cut.{ext}"
        p.write_bytes(b[:len(b) // 2])
        try:
            w, _ = read_audio(p)
        except BadInputError as e:   # libsndfile noticed: our error names the file
            assert str(p) in str(e)
        else:                        # an OGG page stream cut at a page boundary is valid audio: shorter, never garbage
            assert ext == "ogg" and 0 < len(w) < SR and np.isfinite(w).all()


def test_text_file_renamed_to_flac(tmp_path):
    p = tmp_path / "notes.flac"
    p.write_text("hello")
    with pytest.raises(BadInputError, match="notes.flac: not a readable"):
        read_audio(p)


def test_audio_problems(tmp_path):
    assert audio_problems(tone(), SR, 0.025) == []
    assert audio_problems(np.zeros(SR, np.float32), SR) == ["silent: every sample is zero"]
    assert audio_problems(tone(amp=1e-6), SR)[0].startswith("silent: peak -120.0 dBFS")
    assert audio_problems(tone(amp=1e-3), SR) == []                       # quiet is not silent
    short = audio_problems(tone(300), SR, min_seconds=2048 / 32750)
    assert len(short) == 1 and short[0].startswith("too short: 18.8 ms") and "62.5 ms" in short[0], short
    assert len(audio_problems(np.zeros(10, np.float32), SR, 0.025)) == 2  # both reasons
    assert audio_problems(np.zeros(0, np.float32), SR, 0.025)[0].startswith("too short")


def _flac_claiming(path, frames):
    "Overwrite the 36-bit total-samples field of a FLAC file's STREAMINFO (bytes 18-25) with `frames`."
    b = bytearray(path.read_bytes())
    v = int.from_bytes(b[18:26], "big") & ~((1 << 36) - 1) | frames
    b[18:26] = v.to_bytes(8, "big")
    path.write_bytes(bytes(b))


def test_flac_whose_header_claims_2_34_samples_is_refused_before_reading(tmp_path):
    p = tmp_path / "bomb.flac"
    sf.write(p, tone(), SR)
    _flac_claiming(p, 2**34)                                   # 64 GiB of float32 if believed: MemoryError before
    assert p.stat().st_size < 60_000 and sf.info(str(p)).frames == 2**34
    with pytest.raises(BadInputError, match=r"bomb.flac: the header declares 17179869184 frames"):
        read_audio(p)
    _flac_claiming(p, MAX_AUDIO_SECONDS * SR // 2)             # under the limit but still a lie: read block by block
    with pytest.raises(BadInputError, match=r"bomb.flac: (not a readable|truncated)"):
        read_audio(p)


UNUSABLE = {"all_zero": (np.zeros(SR, np.float32), "silent: every sample is zero"),
            "minus_100_dbfs": (tone(amp=1e-5), "silent: peak -100.0 dBFS"),
            "ten_ms": (tone(SR // 100), "too short: 10.0 ms"),
            "one_sample": (tone(1), "too short: 0.1 ms"),
            "antiphase_stereo": (np.stack([tone(), -tone()], 1), "the 2 channels cancel")}


@pytest.mark.parametrize("kind", sorted(UNUSABLE))
def test_unusable_clips_are_refused_with_their_cause(tmp_path, kind):
    wave, why = UNUSABLE[kind]
    p = tmp_path / f"{kind}.wav"
    sf.write(p, wave, SR, subtype="FLOAT")
    with pytest.raises(BadInputError) as e:
        read_clip(p, 16000)
    assert str(p) in str(e.value) and why in e.value.reason, e.value.reason
    if kind == "antiphase_stereo": assert "every sample is zero" not in e.value.reason


def test_one_rule_for_the_shortest_clip(tmp_path):
    ok = round(MIN_CLIP_SECONDS * SR)
    assert audio_problems(tone(ok), SR) == [] and audio_problems(tone(ok - 1), SR)[0].startswith("too short")
