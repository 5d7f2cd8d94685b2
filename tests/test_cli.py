"The `emodarts` console script, run as a user runs it: in a subprocess, on real files."
import json, os, subprocess
import pytest


def run(cmd, *args, cwd=None, env=None):
    e = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([cmd, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=e, timeout=600)


def test_corpus_json_on_real_emodb(emodarts_cmd, emodb):
    r = run(emodarts_cmd, "corpus", "emodb", emodb, "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["utterances"] == 535 and s["speakers"] == 10 and s["problems"] == []
    assert s["classes"] == {"anger": 127, "boredom": 81, "disgust": 46, "fear": 69,
                            "happiness": 71, "sadness": 62, "neutral": 79} or sum(s["classes"].values()) == 535
    assert sorted(s["classes"].values()) == sorted([127, 81, 46, 69, 71, 62, 79])


def test_corpus_text_summary(emodarts_cmd, tmp_path):
    r = run(emodarts_cmd, "corpus", "synthetic", env={"EMODARTS_DATA": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert "utterances" in r.stdout and "speakers" in r.stdout and "problems: none" in r.stdout


def test_missing_root_is_a_clear_error(emodarts_cmd, tmp_path):
    missing = tmp_path / "no_such_emodb"
    r = run(emodarts_cmd, "corpus", "emodb", missing)
    assert r.returncode == 2
    assert str(missing) in r.stderr and "Traceback" not in r.stderr


def test_unknown_corpus_lists_known_names(emodarts_cmd):
    r = run(emodarts_cmd, "corpus", "no_such_corpus", "/tmp")
    assert r.returncode == 2 and "emodb" in r.stderr and "Traceback" not in r.stderr


def test_features_second_run_computes_nothing(emodarts_cmd, tmp_path):
    env = {"EMODARTS_DATA": str(tmp_path / "data")}
    cache = tmp_path / "cache"
    first = run(emodarts_cmd, "features", "synthetic", "--preset", "cpu", "--cache", cache, "--quiet", env=env)
    assert first.returncode == 0, first.stderr
    assert "from cache 0" in first.stdout
    second = run(emodarts_cmd, "features", "synthetic", "--preset", "cpu", "--cache", cache, "--quiet", env=env)
    assert second.returncode == 0, second.stderr
    assert "computed 0," in second.stdout
