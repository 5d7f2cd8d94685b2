"Corpus loaders on fixture trees that mirror each layout, and EmoDB on the real copy."
import json, os, shutil
import numpy as np
import pandas as pd
import pytest

from emodarts_nb.core import BadInputError, CorpusError
from emodarts_nb.corpus import COLUMNS, CORPORA, Corpus, load_corpus
from emodarts_nb.testing import (EXPECTED, make_emodb_tree, make_iemocap_tree, make_msp_improv_tree,
                                  make_msp_podcast_tree, make_ravdess_tree, write_wav)

BUILDERS = {"iemocap": make_iemocap_tree, "iemocap_emodarts": make_iemocap_tree, "msp_improv": make_msp_improv_tree,
            "msp_improv_emodarts": make_msp_improv_tree, "msp_podcast": make_msp_podcast_tree,
            "ravdess": make_ravdess_tree, "emodb": make_emodb_tree}


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpora")
    return {"iemocap": make_iemocap_tree(root), "msp_improv": make_msp_improv_tree(root),
            "msp_podcast": make_msp_podcast_tree(root), "ravdess": make_ravdess_tree(root), "emodb": make_emodb_tree(root)}


def _tree(trees, name): return trees[name.replace("_emodarts", "")]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_loader_counts_and_contract(trees, name):
    c = load_corpus(name, _tree(trees, name))
    e = EXPECTED[name]
    assert isinstance(c, Corpus) and c.name == name
    assert len(c) == e["utterances"] and c.class_counts() == e["classes"]
    if "speakers" in e: assert len(c.speakers) == e["speakers"]
    assert list(c.table.columns[:6]) == list(COLUMNS)
    assert c.table.utt.is_unique and all(c.table.path.map(lambda p: p.startswith("/")))
    assert set(c.table.label) <= set(c.labels) and c.y.dtype == np.int64
    assert set(c.table.gender) <= {"F", "M", None}
    assert c.problems == []
    s = c.summary(); json.dumps(s)
    assert s["utterances"] == len(c) and s["classes"] == e["classes"] and sum(s["per_speaker"].values()) == len(c)
    assert s["duration_s"] == pytest.approx(0.5 * len(c), rel=1e-3)
    assert c.check(strict=True).problems == []       # every fixture file reads (FLLR chunk, stereo 44.1 kHz)


def test_iemocap_standard_vs_emodarts(trees):
    std, emo = load_corpus("iemocap", trees["iemocap"]), load_corpus("iemocap_emodarts", trees["iemocap"])
    assert (len(std), len(emo)) == (55, 23)
    assert std.info["excluded"] == {"xxx": 10, "fru": 10} and emo.info["excluded"]["exc"] == 5
    assert set(emo.table.code) == {"hap", "neu", "ang", "sad"}      # exc not merged in the emoDARTS variant
    assert (std.table.code == "exc").sum() == 11 and set(std.table[std.table.code == "exc"].label) == {"hap"}
    assert set(emo.table.scenario) == {"improvised"}
    assert std.table.session.tolist() == sorted(std.table.session) and set(std.table.session) == {f"Ses0{i}" for i in range(1, 6)}
    imp = load_corpus("iemocap", trees["iemocap"], improvised_only=True, merge_exc=True)
    assert len(imp) == 28 and imp.info["excluded"]["scripted"] == 37
    assert len(load_corpus("iemocap", trees["iemocap"], sessions=[1, 2])) == 20


def test_iemocap_speakers_from_last_field(trees):
    c = load_corpus("iemocap", trees["iemocap"]); t = c.table.set_index("utt")
    assert c.speakers == [f"0{s}_{x}" for s in range(1, 6) for x in "FM"]
    assert t.loc["Ses03M_impro05a_F000", "speaker"] == "03_F" and t.loc["Ses03M_impro05a_F001", "gender"] == "F"
    assert t.loc["Ses03M_impro05a_M000", "speaker"] == "03_M"
    assert t.loc["Ses05M_script01_1b_F000", ["speaker", "session", "dialog"]].tolist() == ["05_F", "Ses05", "Ses05M_script01_1b"]
    assert t.loc["Ses05M_script01_1b_M000", "label"] == "hap"   # exc -> hap


def test_iemocap_junk_and_root_variants(trees, tmp_path):
    c = load_corpus("iemocap", trees["iemocap"].parent)      # the parent of IEMOCAP_full_release works too
    assert len(c) == 55 and c.info["hidden_skipped"] == 1
    assert any("._Ses01F_impro01_F000.wav" in n for n in c.summary()["notes"])  # counted, not silent
    assert not any("._" in p for p in c.table.path)


@pytest.mark.parametrize("spelling,audio_dir", [("Evalution.txt", "Audio"), ("Evaluation.txt", ""), ("Evaluation.txt", "all_sessions")])
def test_msp_improv_spellings(tmp_path, spelling, audio_dir):
    root = make_msp_improv_tree(tmp_path, label_file=spelling, audio_dir=audio_dir)
    c = load_corpus("msp_improv", root)
    assert len(c) == 49 and c.info["label_file"].endswith(spelling)
    assert c.info["excluded"] == {"O": 1, "X": 1} and c.info["labels_without_audio"] == 1
    assert c.speakers == [f"{x}0{k}" for x in "FM" for k in range(1, 7)]
    assert sorted(set(c.table.session)) == [f"session{k}" for k in range(1, 7)]


def test_msp_improv_label_file_one_level_down(tmp_path):
    root = make_msp_improv_tree(tmp_path)
    (root/"Labels").mkdir(); shutil.move(root/"Evalution.txt", root/"Labels"/"Evalution.txt")
    assert len(load_corpus("msp_improv", root)) == 49


def test_msp_improv_details(trees):
    c = load_corpus("msp_improv", trees["msp_improv"]); t = c.table.set_index("utt")
    assert t.dom.isna().sum() == 1                                   # D:NaN read as NaN
    assert t.loc["MSP-IMPROV-S03N-F01-T-FM01", "n_raters"] == 2      # a rater listed twice counts once
    assert t.loc["MSP-IMPROV-S07S-F03-R-FF01", ["label", "acted"]].tolist() == ["neu", "sad"]
    assert "MSP-IMPROV-S08A-M04-R-MM01" not in t.index and "MSP-IMPROV-S08A-M04-R-MM01" in " ".join(c.summary()["notes"])
    e = load_corpus("msp_improv_emodarts", trees["msp_improv"])
    assert set(e.table.scenario) == {"read"} and len(e) == 15
    assert e.table.set_index("utt").loc["MSP-IMPROV-S05A-F01-R-FF01", "label"] == "ang"   # acted label, though consensus is O


def test_msp_podcast_details(trees):
    c = load_corpus("msp_podcast", trees["msp_podcast"]); t = c.table.set_index("utt")
    assert t.loc["MSP-PODCAST_0153_0155", "speaker"] == "Unknown" and t.loc["MSP-PODCAST_0153_0155", "gender"] is None
    assert c.info["unknown_speaker"] == 1 and c.info["excluded"] == {"O": 1, "U": 1, "X": 1}
    assert "MSP-PODCAST_0047_0295_0001" in t.index and t.loc["MSP-PODCAST_0047_0295_0001", "split"] == "Test1"
    assert t.loc["MSP-PODCAST_0002_0001", "gender"] == "F" and t.loc["MSP-PODCAST_0002_0001", "speaker"] == "1000"
    assert c.table.session.isna().all() and c.info["audio_without_labels"] == 1
    ok = c.subset(["MSP-PODCAST_1023_0235"]).check()                 # stereo 44.1 kHz: read, not rejected
    assert ok.table.duration.iloc[0] == pytest.approx(0.5, abs=1e-3)
    assert len(load_corpus("msp_podcast", trees["msp_podcast"], drop_unknown_speakers=True)) == 9
    assert len(load_corpus("msp_podcast", trees["msp_podcast"], splits=["Train"])) == 5
    c8 = load_corpus("msp_podcast", trees["msp_podcast"], classes=8)
    assert len(c8) == 11 and c8.labels == ("ang", "sad", "hap", "sur", "fea", "dis", "con", "neu")


def test_msp_podcast_old_spellings(tmp_path):
    root = make_msp_podcast_tree(tmp_path, dev_name="Validation", label_dir="labels", label_file="labels_concensus.csv", audio_dir="Audio")
    c = load_corpus("msp_podcast", root)
    assert c.table.split.value_counts().to_dict() == EXPECTED["msp_podcast"]["splits"]   # Validation -> Development
    assert len(load_corpus("msp_podcast", root, splits=["Validation"])) == 1


def test_ravdess_details(trees):
    c = load_corpus("ravdess", trees["ravdess"])
    assert c.info["excluded"] == {"song": 1} and c.info["hidden_skipped"] == 1
    assert c.table.groupby("speaker").gender.first().to_dict() == {"01": "M", "02": "F"}
    assert len(load_corpus("ravdess", trees["ravdess"], channel="both")) == 9
    assert load_corpus("ravdess", trees["ravdess"], channel="song").table.label.tolist() == ["happy"]


def test_emodb_original_layout(trees):
    c = load_corpus("emodb", trees["emodb"])
    assert c.speakers == ["03", "08", "16"] and c.labels[0] == "anger" and c.info["hidden_skipped"] == 1
    assert c.table.set_index("utt").loc["08b01Ta", ["label", "gender", "sentence"]].tolist() == ["sadness", "F", "b01"]


@pytest.fixture
def real_emodb(emodb, monkeypatch):
    "The real EmoDB folder (tests/conftest.py finds it through EMODARTS_SHARED_DATA), with the variable set."
    monkeypatch.setenv("EMODARTS_SHARED_DATA", str(emodb.parent))
    return emodb


EMODB_COUNTS = {"anger": 127, "boredom": 81, "disgust": 46, "fear": 69, "happiness": 71, "sadness": 62, "neutral": 79}


def test_emodb_real_copy(real_emodb):
    d = real_emodb
    c = load_corpus("emodb", d)
    assert len(c) == 535 and len(c.speakers) == 10 and c.class_counts() == EMODB_COUNTS
    g = c.table.groupby("speaker").gender.first().to_dict()
    assert [s for s, x in g.items() if x == "F"] == ["08", "09", "13", "14", "16"]
    assert c.summary()["per_speaker"] == {"03": 49, "08": 58, "09": 43, "10": 38, "11": 55, "12": 35, "13": 61, "14": 69, "15": 56, "16": 71}
    assert c.table.duration.notna().all()           # from the manifest
    assert len(load_corpus("emodb")) == 535         # no path: $EMODARTS_SHARED_DATA/emodb


def test_emodb_real_without_manifest(tmp_path, real_emodb):
    d = real_emodb
    (tmp_path/"wav").mkdir()
    for p in sorted(d.glob("*.wav")): (tmp_path/"wav"/p.name).symlink_to(p)
    c = load_corpus("emodb", tmp_path)
    assert len(c) == 535 and c.class_counts() == EMODB_COUNTS and c.table.duration.isna().all()
    assert c.summary()["duration_s"] == pytest.approx(load_corpus("emodb", d).summary()["duration_s"], rel=1e-3)


def test_registry_and_errors():
    with pytest.raises(BadInputError, match="known: .*emodb.*iemocap"):
        load_corpus("iemocap2")
    for n in ("csv", "folders", "emodb", "ravdess", "iemocap", "iemocap_emodarts", "msp_improv", "msp_podcast"):
        assert n in CORPORA


def test_csv_loader(tmp_path):
    for s in ("ann", "bob"):
        for e in ("calm", "cross"): write_wav(tmp_path/"audio"/s/f"{e}.wav")
    rows = [dict(path=f"audio/{s}/{e}.wav", label=e, speaker=s, gender=g, session=f"day{i}")
            for i, (s, g) in enumerate((("ann", "F"), ("bob", "male"))) for e in ("calm", "cross")]
    rows[0]["path"] = str(tmp_path/"audio/ann/calm.wav")            # absolute paths work too
    pd.DataFrame(rows).to_csv(tmp_path/"manifest.csv", index=False)
    c = load_corpus("csv", tmp_path, labels=("cross", "calm"))        # a folder with manifest.csv
    assert len(c) == 4 and c.labels == ("cross", "calm") and c.y.tolist() == [1, 0, 1, 0]
    assert c.table.gender.tolist() == ["F", "F", "M", "M"] and c.table.session.tolist() == ["day0", "day0", "day1", "day1"]
    assert c.utts[1] == "audio/ann/cross" and c.check().problems == []
    pd.DataFrame(rows).drop(columns="speaker").to_csv(tmp_path/"nospk.csv", index=False)
    with pytest.raises(BadInputError, match=r"nospk\.csv: missing column\(s\): speaker"):
        load_corpus("csv", tmp_path/"nospk.csv")
    with pytest.raises(BadInputError, match="CSV file not found"):
        load_corpus("csv", tmp_path/"nope.csv")


def test_folders_loader(tmp_path):
    for c in ("angry", "calm"):
        for s in ("ann", "bob"): write_wav(tmp_path/"data"/c/s/f"{s}-{c}.wav")
    write_wav(tmp_path/"data"/"calm"/"bob"/"._bob-x.wav")
    c = load_corpus("folders", tmp_path/"data")
    assert c.labels == ("angry", "calm") and c.speakers == ["ann", "bob"] and len(c) == 4 and c.info["hidden_skipped"] == 1
    flat = tmp_path/"flat"
    for c_ in ("angry", "calm"):
        for s in ("ann", "bob"): write_wav(flat/c_/f"{s}-{c_}.wav")
    assert load_corpus("folders", flat, speaker_regex=r"^(?P<speaker>[a-z]+)-").speakers == ["ann", "bob"]
    (tmp_path/"spk.csv").write_text("file,speaker,gender\n" + "".join(f"{s}-{c_}.wav,{s},{g}\n" for s, g in (("ann", "f"), ("bob", "m")) for c_ in ("angry", "calm")))
    t = load_corpus("folders", flat, speakers_csv=tmp_path/"spk.csv").table
    assert t.speaker.tolist() == ["ann", "bob", "ann", "bob"] and t.gender.tolist() == ["F", "M", "F", "M"]


def test_emodb_path_comes_from_the_caller_or_the_variable(tmp_path, monkeypatch):
    "No walking up from the working folder: a shared/data/emodb beside it is not found by itself."
    make_emodb_tree(tmp_path/"shared"/"data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EMODARTS_SHARED_DATA", raising=False)
    with pytest.raises(BadInputError, match="corpus EmoDB: needs the path of its folder .*EMODARTS_SHARED_DATA"):
        load_corpus("emodb")
    assert len(load_corpus("emodb", tmp_path/"shared"/"data"/"emodb")) == 7
    monkeypatch.setenv("EMODARTS_SHARED_DATA", str(tmp_path/"shared"/"data"))
    assert len(load_corpus("emodb")) == 7
    monkeypatch.setenv("EMODARTS_SHARED_DATA", str(tmp_path/"elsewhere"))
    with pytest.raises(BadInputError, match=r"elsewhere/emodb: folder not found"):
        load_corpus("emodb")


def _wav(p):
    import soundfile as sf
    p.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(8000) / 16000
    fmt = "FLAC" if p.suffix.lower() == ".flac" else "WAV"
    sf.write(p, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000, format=fmt)
    return p


def test_folders_account_for_every_entry(tmp_path, capsys):
    d = tmp_path/"data"
    good = [_wav(d/"angry"/"ann"/"a1.WAV"), _wav(d/"calm"/"bob"/"b1.Flac"), _wav(d/"calm"/"bob"/"b2.wav")]
    os.symlink(d/"angry"/"ann"/"gone.wav", d/"angry"/"ann"/"broken.wav")
    os.symlink(d/"angry"/"ann"/"loop.wav", d/"angry"/"ann"/"loop.wav")
    (d/"angry"/"ann"/"x.wav").mkdir()
    os.mkfifo(d/"calm"/"bob"/"pipe.wav")
    (d/"calm"/"bob"/"song.mp3").write_bytes(b"ID3" + bytes(100))
    os.symlink(d/"angry", d/"angry"/"ann"/"again")                 # a folder link back up the tree
    _wav(d/"stray.wav")
    (d/"README.txt").write_text("my corpus")
    (d/"empty_class").mkdir()
    expect = {d/"angry"/"ann"/"broken.wav": "broken link", d/"angry"/"ann"/"loop.wav": "link loop",
              d/"angry"/"ann"/"x.wav": "a folder, not a file", d/"calm"/"bob"/"pipe.wav": "a FIFO",
              d/"calm"/"bob"/"song.mp3": "MP3 audio is not read", d/"angry"/"ann"/"again": "link loop",
              d/"stray.wav": "audio in the root folder, outside any class folder",
              d/"empty_class": "class folder without audio"}
    with pytest.raises(CorpusError) as e:
        load_corpus("folders", d)
    for p, why in expect.items(): assert f"{p}: {why}" in str(e.value), (p, str(e.value))
    assert "file not found" not in str(e.value)
    c = load_corpus("folders", d, strict=False)
    assert sorted(c.table.path) == sorted(map(str, good)) and c.labels == ("angry", "calm")
    s = c.summary()
    assert len(s["problems"]) == len(expect) and any("README.txt" in n for n in s["notes"])


def test_empty_folders_corpus_is_an_error(tmp_path):
    (tmp_path/"root"/"angry").mkdir(parents=True)
    with pytest.raises(CorpusError, match="class folder without audio"):
        load_corpus("folders", tmp_path/"root")
    with pytest.raises(BadInputError, match=r"no utterances.*expected layout"):
        load_corpus("folders", tmp_path/"root", strict=False)
    (tmp_path/"bare").mkdir()
    with pytest.raises(BadInputError, match="no utterances"):
        load_corpus("folders", tmp_path/"bare")


LATIN1 = "path,label,speaker\nb\xe9b.wav,col\xe8re,s1\n".encode("latin-1")


@pytest.mark.parametrize("content,why", [(b"", "file is empty (0 bytes) (a CSV needs a header line)"),
                                         (b"path,label,speaker\n", "has a header but no rows"),
                                         (LATIN1, "not UTF-8 text"), (b"\x00\x01\x02garbage", "missing column")])
def test_csv_that_cannot_be_read(tmp_path, content, why):
    f = tmp_path/"c.csv"
    f.write_bytes(content)
    with pytest.raises(BadInputError) as e:
        load_corpus("csv", f)
    assert str(e.value).startswith(f"{f}: ") and why in str(e.value), str(e.value)


def test_csv_labels_are_read_as_meant(tmp_path):
    for i in range(5): _wav(tmp_path/f"u{i}.wav")
    rows = ["path,label,speaker", "u0.wav,anger ,s1", "u1.wav,Neutral,s1", "u2.wav,neutral, s2", "u3.wav,anger,s2",
            "u4.wav,neutral,s2 "]
    (tmp_path/"c.csv").write_text("\n".join(rows) + "\n")
    c = load_corpus("csv", tmp_path/"c.csv")
    assert c.labels == ("anger", "neutral") and c.class_counts() == {"anger": 2, "neutral": 3}
    assert c.speakers == ["s1", "s2"]
    assert any("'Neutral' read as 'neutral'" in n for n in c.summary()["notes"])
    c2 = load_corpus("csv", tmp_path/"c.csv", labels=("Anger", "Neutral"))       # given labels win, any case
    assert c2.labels == ("Anger", "Neutral") and c2.class_counts() == {"Anger": 2, "Neutral": 3}
    (tmp_path/"d.csv").write_text("path,label,speaker\nu0.wav,joy,s1\nu1.wav,anger,s2\n")
    with pytest.raises(CorpusError, match=r"label 'joy' is not one of \['anger', 'neutral'\]"):
        load_corpus("csv", tmp_path/"d.csv", labels=("anger", "neutral"))
