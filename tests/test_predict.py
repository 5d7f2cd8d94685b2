"Using a found model: predict on real WAV files (one corrupt), the CLI's error lines and exit status, TorchScript and ONNX equal PyTorch."
import json, os, sys, textwrap
from pathlib import Path

import numpy as np, pytest, soundfile as sf, torch
import forked

from emodarts_nb.predict import predict, load_predictor, export_run, export_onnx, export_torchscript, max_difference

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "Two finished tiny retraining runs on a synthetic corpus: the CNN-LSTM baseline and a genotype network with LSTM ops."
    from emodarts_nb.synthetic import make_synthetic
    from emodarts_nb.train import retrain, get_train_config
    from emodarts_nb.genotypes import Genotype
    tmp = tmp_path_factory.mktemp("predict")
    syn = make_synthetic(tmp / "syn", n_speakers=4, n_per_class=2, classes=("neutral", "angry", "sad"), seconds=0.5)
    cfg = get_train_config("tiny", cache_dir=str(tmp / "cache"), epochs=1)
    g = Genotype(normal=[[("sep_conv_3x3", 0), ("skip_connect", 1)], [("max_pool_3x3", 0), ("sep_conv_3x3", 2)]], normal_concat=range(2, 4),
                 reduce=[[("max_pool_3x3", 0), ("sep_conv_3x3", 1)], [("skip_connect", 2), ("max_pool_3x3", 1)]], reduce_concat=range(2, 4),
                 seq=[[("lstm_1", 0), ("lstm_att_1", 1)], [("lstm_2", 2), ("skip_connect", 0)]], seq_concat=range(2, 4))
    out = {"baseline": tmp / "base", "genotype": tmp / "geno"}
    retrain("baseline", cfg, syn, 0, out["baseline"], progress=False)
    retrain(g, cfg, syn, 0, out["genotype"], progress=False)
    return syn, out, tmp


@pytest.fixture(scope="module")
def wavs(runs):
    "Real WAV files written by soundfile (16-bit 16 kHz, float 22.05 kHz stereo), and a corrupt one."
    syn, _, tmp = runs
    d = tmp / "wavs"; d.mkdir(exist_ok=True)
    x, sr = sf.read(syn.table.path[0], dtype="float32")
    sf.write(d / "a.wav", x, sr, subtype="PCM_16")
    import soxr
    y = soxr.resample(x, sr, 22050)
    sf.write(d / "b.wav", np.stack([y, 0.5 * y], 1), 22050, subtype="FLOAT")
    raw = (d / "a.wav").read_bytes(); (d / "corrupt.wav").write_bytes(raw[: len(raw) // 4])
    return [d / "a.wav", d / "corrupt.wav", d / "b.wav"]


def test_predict_files_one_corrupt(runs, wavs):
    syn, out, _ = runs
    res = predict(out["baseline"], wavs)
    assert [("error" in r) for r in res] == [False, True, False]
    assert "corrupt.wav" in res[1]["error"] and "truncated or corrupt" in res[1]["error"]
    for r in (res[0], res[2]):
        assert set(r["probs"]) == set(syn.labels) and abs(sum(r["probs"].values()) - 1) < 1e-5
        assert r["emotion"] == max(r["probs"], key=r["probs"].get)


def test_predict_matches_train_predict_arrays(runs, wavs):
    "predict() on a file == load_model + predict_arrays on the same file's features."
    from emodarts_nb.predict import load_model, predict_arrays
    from emodarts_nb.audio import read_audio
    from emodarts_nb.features import extract_waves
    _, out, _ = runs
    for run in out.values():
        tm = load_model(run)
        wave, _ = read_audio(wavs[0], sr=tm.features.sr)
        ref = predict_arrays(tm, extract_waves([wave], tm.features))[0]
        got = predict(run, [wavs[0]])[0]["probs"]
        np.testing.assert_allclose([got[l] for l in tm.labels], ref, atol=1e-5)


CLI = textwrap.dedent("""
    import sys
    from emodarts_nb.cli import make_parser
    a = make_parser().parse_args(sys.argv[1:]); a.func(a)
""")


def test_cli_error_line_and_exit_status(runs, wavs, tmp_path):
    _, out, _ = runs
    script = tmp_path / "cli.py"; script.write_text(CLI)
    r = forked.run([sys.executable, str(script), "predict", str(out["baseline"]), *map(str, wavs)], env=ENV, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "corrupt.wav" in r.stderr and "error" in r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["file", "emotion"] and len(lines) == 4 and "a.wav" in lines[1] and "b.wav" in lines[3]
    r = forked.run([sys.executable, str(script), "predict", str(out["baseline"]), str(wavs[0]), "--json"], env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["file"] == str(wavs[0])


@pytest.mark.parametrize("kind", ["baseline", "genotype"])
def test_export_equals_pytorch(runs, wavs, kind, tmp_path):
    "TorchScript and ONNX (onnxruntime) give the PyTorch outputs on the same inputs, at batch sizes 1 and 3; predict agrees."
    import onnxruntime                                             # part of the dev install: a missing one is a failure
    _, out, _ = runs
    paths = export_run(out[kind], tmp_path / "export")            # checks the outputs itself too
    p = load_predictor(out[kind])
    shape = tuple(json.loads((out[kind] / "model.json").read_text())["input_shape"])
    for b in (1, 3):
        x = torch.randn(b, 1, *shape, generator=torch.Generator().manual_seed(b))
        for path in paths.values(): assert max_difference(p.model, path, x) < 1e-4, (path, b)
    ref = predict(out[kind], [wavs[0]])[0]["probs"]
    for path in paths.values():
        got = predict(path, [wavs[0]])[0]["probs"]
        np.testing.assert_allclose(list(got.values()), list(ref.values()), atol=1e-4)


@pytest.mark.parametrize("damage, says", [
    (lambda d: {**d, "labels": d["labels"][:1]}, "labels for a model of"),
    (lambda d: {k: v for k, v in d.items() if k != "input_shape"}, "has no 'input_shape'"),
    (lambda d: {**d, "n_classes": "3"}, "n_classes is '3'"),
    (lambda d: {**d, "input_shape": [7, 7]}, "model.pt does not fit model.json"),
])
def test_a_broken_model_json_is_named(runs, wavs, tmp_path, emodarts_cmd, damage, says):
    "A hand-edited model.json is the error (exit 2, the file named), not the audio file and not a traceback."
    import shutil
    _, out, _ = runs
    run = tmp_path / "run"; shutil.copytree(out["baseline"], run)
    info = json.loads((run / "model.json").read_text()); (run / "model.json").write_text(json.dumps(damage(info)))
    r = forked.run([emodarts_cmd, "predict", str(run), str(wavs[0])], env=ENV, timeout=300)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr and "a.wav" not in r.stderr, r.stderr


def test_a_file_that_is_no_model_is_named(tmp_path, wavs, emodarts_cmd):
    for name in ("m.onnx", "m.pt"):
        (tmp_path / name).write_bytes(b"not a model")
        (tmp_path / f"{name}.json").write_text(json.dumps(dict(labels=["a", "b"], features={}, norm=None, input_shape=[4, 4])))
        r = forked.run([emodarts_cmd, "predict", str(tmp_path / name), str(wavs[0])], env=ENV)
        assert r.returncode == 2 and "cannot be read as" in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("name, make, says", [
    ("zeros.wav", lambda sr: np.zeros(sr // 2, np.float32), "zero"),
    ("quiet.wav", lambda sr: (1e-5 * np.sin(np.arange(sr // 2) / 5)).astype(np.float32), "dBFS"),
    ("short.wav", lambda sr: (0.3 * np.sin(np.arange(sr // 100) / 5)).astype(np.float32), "too short"),
    ("one.wav", lambda sr: np.array([0.5], np.float32), "too short"),
    ("antiphase.wav", lambda sr: np.stack([s := (0.3 * np.sin(np.arange(sr // 2) / 5)).astype(np.float32), -s], 1), "cancel")])
def test_predict_refuses_what_the_corpus_check_refuses(runs, tmp_path, name, make, says):
    "Silent, too quiet, too short and cancelling clips get the corpus check's reason, not a score (fails on 77af34e)."
    from emodarts_nb.audio import audio_problems
    _, out, _ = runs
    sr = 16000
    x = make(sr)
    sf.write(tmp_path / name, x, sr, subtype="FLOAT")
    assert audio_problems(np.atleast_2d(x.T), sr)                  # the corpus check refuses it too
    [r] = predict(out["baseline"], [tmp_path / name])
    assert "error" in r and "emotion" not in r, r
    assert name in r["error"] and says in r["error"], r["error"]
