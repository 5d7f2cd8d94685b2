"Corpus loaders on fixture trees that mirror each layout, and EmoDB on the real copy."
import json, shutil
import numpy as np
import pandas as pd
import pytest

from emodarts_nb.core import BadInputError, emodb_dir
from emodarts_nb.corpus import COLUMNS, CORPORA, Corpus, load_corpus
from emodarts_nb.fixtures import (EXPECTED, make_emodb_tree, make_iemocap_tree, make_msp_improv_tree,
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


def _real_emodb():
    d = emodb_dir()
    if d is None: pytest.skip("real-data test: ../shared/data/emodb not found (set EMODARTS_SHARED_DATA or put shared/data/emodb beside the project)")
    return d


EMODB_COUNTS = {"anger": 127, "boredom": 81, "disgust": 46, "fear": 69, "happiness": 71, "sadness": 62, "neutral": 79}


def test_emodb_real_copy():
    d = _real_emodb()
    c = load_corpus("emodb", d)
    assert len(c) == 535 and len(c.speakers) == 10 and c.class_counts() == EMODB_COUNTS
    g = c.table.groupby("speaker").gender.first().to_dict()
    assert [s for s, x in g.items() if x == "F"] == ["08", "09", "13", "14", "16"]
    assert c.summary()["per_speaker"] == {"03": 49, "08": 58, "09": 43, "10": 38, "11": 55, "12": 35, "13": 61, "14": 69, "15": 56, "16": 71}
    assert c.table.duration.notna().all()           # from the manifest
    assert len(load_corpus("emodb")) == 535         # no path: the shared copy


def test_emodb_real_without_manifest(tmp_path):
    d = _real_emodb()
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
