"Every kind of bad corpus input, built for real: each problem names the file and the reason; strict raises, lenient reports."
import re, shutil
import pandas as pd
import pytest

from emodarts_nb.core import BadInputError, CorpusError
from emodarts_nb.corpus import build_corpus, load_corpus
from emodarts_nb.testing import (make_emodb_tree, make_iemocap_tree, make_msp_improv_tree, make_msp_podcast_tree,
                                  make_ravdess_tree, write_bad_audio, write_wav)

REASONS = {"empty": r"empty", "zero_length": r"zero-length|no audio samples|no samples", "not_audio": r"not a readable|not audio",
           "truncated": r"truncated", "nan": r"NaN", "inf": r"inf", "silence": r"silen", "too_short": r"too short"}


@pytest.fixture
def bad_corpus(tmp_path):
    files = write_bad_audio(tmp_path/"bad")
    ok = write_wav(tmp_path/"good"/"ok.wav")
    rows = [dict(utt=k, path=str(p), speaker="s1", label="neu") for k, p in files.items()]
    rows.append(dict(utt="ok", path=str(ok), speaker="s2", label="neu"))
    return build_corpus("bad", rows, ("neu",)), files


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_each_bad_file_is_named_with_its_reason(bad_corpus, kind):
    c, files = bad_corpus
    one = c.subset([kind])
    with pytest.raises(CorpusError) as e:
        one.check(strict=True)
    msg = str(e.value)
    assert str(files[kind]) in msg, msg
    assert re.search(REASONS[kind], msg, re.I), msg
    assert e.value.report.bad_utts() == {kind}


def test_strict_raises_with_the_whole_report(bad_corpus):
    c, files = bad_corpus
    with pytest.raises(CorpusError) as e:
        c.check(strict=True)
    assert e.value.report.bad_utts() == set(files)                   # every bad file, not just the first
    for p in files.values(): assert str(p) in str(e.value)


def test_lenient_leaves_them_out_and_prints(bad_corpus, capsys):
    c, files = bad_corpus
    good = c.check(strict=False)
    assert good.utts == ["ok"] and good.table.duration.iloc[0] == pytest.approx(0.5, abs=1e-3)
    err = capsys.readouterr().err
    assert "lenient mode" in err and all(str(p) in err for p in files.values())
    assert {p.utt for p in good.problems} == set(files)              # the reasons stay on the corpus
    assert len(good.summary()["problems"]) >= len(files)


def test_unknown_label_code_iemocap(tmp_path, capsys):
    root = make_iemocap_tree(tmp_path)
    f = root/"Session2"/"dialog"/"EmoEvaluation"/"Ses02M_impro01.txt"
    f.write_text(f.read_text().replace("Ses02M_impro01_M001\tang", "Ses02M_impro01_M001\tzzz"))
    with pytest.raises(CorpusError, match=r"Ses02M_impro01\.txt: unknown emotion code 'zzz' for Ses02M_impro01_M001"):
        load_corpus("iemocap", root)
    c = load_corpus("iemocap", root, strict=False)
    assert len(c) == 54 and "Ses02M_impro01_M001" not in c.utts and "zzz" in capsys.readouterr().err


def test_unknown_label_code_msp(tmp_path):
    root = make_msp_improv_tree(tmp_path)
    f = root/"Evalution.txt"; f.write_text(f.read_text().replace("UTD-IMPROV-S01H-F01-R-FF01.avi; H;", "UTD-IMPROV-S01H-F01-R-FF01.avi; Z;"))
    with pytest.raises(CorpusError, match=r"MSP-IMPROV-S01H-F01-R-FF01\.wav: unknown consensus code 'Z'"):
        load_corpus("msp_improv", root)
    pod = make_msp_podcast_tree(tmp_path)
    f = pod/"Labels"/"labels_consensus.csv"; f.write_text(f.read_text().replace("MSP-PODCAST_0001_0009.wav,H", "MSP-PODCAST_0001_0009.wav,Q"))
    with pytest.raises(CorpusError, match=r"labels_consensus\.csv \(MSP-PODCAST_0001_0009\.wav\): unknown EmoClass 'Q'"):
        load_corpus("msp_podcast", pod)
    assert len(load_corpus("msp_podcast", pod, strict=False)) == 9


def test_unknown_label_csv(tmp_path):
    write_wav(tmp_path/"a.wav"); write_wav(tmp_path/"b.wav")
    (tmp_path/"c.csv").write_text("path,label,speaker\na.wav,calm,s1\nb.wav,angry,s2\n")
    with pytest.raises(CorpusError, match=r"b\.wav: label 'angry' is not one of \['calm'\]"):
        load_corpus("csv", tmp_path/"c.csv", labels=("calm",))


def test_missing_label_file_iemocap(tmp_path):
    root = make_iemocap_tree(tmp_path)
    (root/"Session4"/"dialog"/"EmoEvaluation"/"Ses04M_impro01.txt").unlink()
    with pytest.raises(CorpusError) as e:
        load_corpus("iemocap", root)
    msg = str(e.value)
    assert "Ses04M_impro01_F000.wav: audio without a label line" in msg and "Ses04M_impro01.txt" in msg
    assert e.value.report.bad_utts() == {f"Ses04M_impro01_{x}" for x in ("F000", "M000", "F001", "M001", "F002", "M002", "F003")}
    shutil.rmtree(root/"Session5"/"dialog"/"EmoEvaluation")
    with pytest.raises(CorpusError, match=r"Session5/dialog/EmoEvaluation: label folder missing"):
        load_corpus("iemocap", root)


def test_missing_label_file_msp(tmp_path):
    root = make_msp_improv_tree(tmp_path); (root/"Evalution.txt").unlink()
    with pytest.raises(BadInputError, match=r"Evalution\.txt: label file missing .*Evaluation\.txt"):
        load_corpus("msp_improv", root)
    assert len(load_corpus("msp_improv_emodarts", root)) == 15       # the acted variant needs no label file
    pod = make_msp_podcast_tree(tmp_path); (pod/"Labels"/"labels_consensus.csv").unlink()
    with pytest.raises(BadInputError, match="labels_consensus.csv: label file missing"):
        load_corpus("msp_podcast", pod)


def test_audio_without_labels_msp_improv(tmp_path):
    root = make_msp_improv_tree(tmp_path)
    extra = write_wav(root/"Audio"/"session1"/"S09A"/"R"/"MSP-IMPROV-S09A-F01-R-FF01.wav")
    with pytest.raises(CorpusError, match=re.escape(f"{extra}: audio without a consensus label line")):
        load_corpus("msp_improv", root)
    assert len(load_corpus("msp_improv", root, strict=False)) == 49


def test_label_lines_without_audio_are_counted(tmp_path):
    root = make_iemocap_tree(tmp_path)
    (root/"Session1"/"sentences"/"wav"/"Ses01F_impro01"/"Ses01F_impro01_F000.wav").unlink()
    c = load_corpus("iemocap", root)
    assert len(c) == 54 and c.info["labels_without_audio"] == 1
    assert any("Ses01F_impro01_F000" in n for n in c.summary()["notes"])


def test_duplicate_ids(tmp_path):
    write_wav(tmp_path/"a"/"x.wav"); write_wav(tmp_path/"b"/"y.wav")
    (tmp_path/"dup.csv").write_text("utt,path,label,speaker\nu1,a/x.wav,calm,s1\nu1,b/y.wav,calm,s2\n")
    with pytest.raises(CorpusError) as e:
        load_corpus("csv", tmp_path/"dup.csv")
    assert "duplicate utterance id 'u1'" in str(e.value) and str(tmp_path/"a"/"x.wav") in str(e.value) and str(tmp_path/"b"/"y.wav") in str(e.value)
    root = make_iemocap_tree(tmp_path)                               # one turn labelled in two files
    src = root/"Session1"/"dialog"/"EmoEvaluation"/"Ses01F_impro01.txt"
    dst = root/"Session1"/"dialog"/"EmoEvaluation"/"Ses01M_script01_1.txt"
    dst.write_text(dst.read_text() + "[1.0000 - 2.0000]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n")
    with pytest.raises(CorpusError, match="duplicate utterance id 'Ses01F_impro01_F000'"):
        load_corpus("iemocap", root)
    pod = make_msp_podcast_tree(tmp_path/"p")
    f = pod/"Labels"/"labels_consensus.csv"; f.write_text(f.read_text() + "MSP-PODCAST_0001_0008.wav,A,2,2,2,30,Male,Train\n")
    with pytest.raises(CorpusError, match="duplicate utterance id 'MSP-PODCAST_0001_0008'"):
        load_corpus("msp_podcast", pod)


def test_names_that_do_not_parse(tmp_path):
    root = make_emodb_tree(tmp_path); stray = write_wav(root/"wav"/"recording1.wav")
    with pytest.raises(CorpusError, match=re.escape(f"{stray}: name does not parse as SSTTTEV.wav")):
        load_corpus("emodb", root)
    assert len(load_corpus("emodb", root, strict=False)) == 7
    rav = make_ravdess_tree(tmp_path); moved = rav/"Actor_02"/"03-01-05-01-02-02-01.wav"
    shutil.move(rav/"Actor_01"/"03-01-05-01-02-02-01.wav", moved)
    with pytest.raises(CorpusError, match="actor 01 in the name but the file is in Actor_02"):
        load_corpus("ravdess", rav)


def test_csv_missing_audio_and_empty_label(tmp_path):
    write_wav(tmp_path/"a.wav")
    (tmp_path/"c.csv").write_text("path,label,speaker\na.wav,calm,s1\ngone.wav,calm,s1\na.wav,,s1\n")
    with pytest.raises(CorpusError) as e:
        load_corpus("csv", tmp_path/"c.csv")
    assert f"{tmp_path/'gone.wav'}: file not found" in str(e.value) and "c.csv (line 4): empty label" in str(e.value)


@pytest.mark.parametrize("name", ["iemocap", "iemocap_emodarts", "msp_improv", "msp_podcast", "ravdess", "emodb", "folders"])
def test_missing_root_folder(tmp_path, name):
    with pytest.raises(BadInputError, match=r"folder not found.*expected layout"):
        load_corpus(name, tmp_path/"not_here")


def test_no_path_and_wrong_folder(tmp_path):
    with pytest.raises(BadInputError, match="needs a path"):
        load_corpus("iemocap")
    with pytest.raises(BadInputError, match="no Session1..5 folders"):
        load_corpus("iemocap", tmp_path)


def _unusable_clips(folder):
    "All-zero, -100 dBFS, 10-ms, one-sample clips and antiphase stereo, written for real, with the cause each must get."
    import numpy as np, soundfile as sf
    sr, t = 16000, np.arange(16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    clips = {"all_zero": (np.zeros(sr, np.float32), "every sample is zero"), "quiet": (tone * 2e-5, "-100.0 dBFS"),
             "ten_ms": (tone[:160], "too short: 10.0 ms"), "one_sample": (tone[:1], "too short: 0.1 ms"),
             "antiphase": (np.stack([tone, -tone], 1), "the 2 channels cancel")}
    folder.mkdir(parents=True, exist_ok=True)
    for k, (w, _) in clips.items(): sf.write(folder/f"{k}.wav", w, sr, subtype="FLOAT")
    return {k: (folder/f"{k}.wav", why) for k, (_, why) in clips.items()}


def test_corpus_check_and_features_apply_one_rule(tmp_path, capsys):
    from emodarts_nb.audio import read_clip
    from emodarts_nb.cache import extract_corpus
    from emodarts_nb.features import get_preset
    clips = _unusable_clips(tmp_path/"bad")
    ok = write_wav(tmp_path/"ok.wav")
    rows = [dict(utt=k, path=str(p), speaker="s1", label="neu") for k, (p, _) in clips.items()]
    c = build_corpus("bad", rows + [dict(utt="ok", path=str(ok), speaker="s2", label="neu")], ("neu",))
    checked = c.check(strict=False)
    feats = extract_corpus(c, get_preset("cpu"), tmp_path/"cache", strict=False, progress=False)
    by_check = {p.utt: p.reason for p in checked.problems}
    by_feats = {p.utt: p.reason for p in feats.problems}
    assert checked.utts == ["ok"] and list(feats.feats) == ["ok"]
    for k, (p, why) in clips.items():
        with pytest.raises(BadInputError) as e:
            read_clip(p, 16000)                                 # what predict calls
        assert why in by_check[k] and by_check[k] == by_feats[k] == e.value.reason, (k, by_check[k], by_feats[k])
    assert "every sample is zero" not in by_check["antiphase"]


def test_empty_corpus_is_an_error(tmp_path, capsys):
    with pytest.raises(BadInputError, match="corpus empty: no utterances"):
        build_corpus("empty", [], ("neu",))
    clips = _unusable_clips(tmp_path/"bad")
    rows = [dict(utt=k, path=str(p), speaker="s", label="neu") for k, (p, _) in clips.items()]
    c = build_corpus("bad", rows, ("neu",))
    with pytest.raises(BadInputError, match="no utterances left: all 5"):
        c.check(strict=False)


def test_flac_claiming_2_34_samples_is_a_problem_of_that_file(tmp_path, capsys):
    "A 56 KB FLAC whose header claims 2**34 samples stopped `corpus` and `features` with MemoryError, even lenient."
    import numpy as np, soundfile as sf
    from emodarts_nb.cache import extract_corpus
    from emodarts_nb.features import get_preset
    bomb = tmp_path/"bomb.flac"
    sf.write(bomb, (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32), 16000)
    b = bytearray(bomb.read_bytes())
    b[18:26] = (int.from_bytes(b[18:26], "big") & ~((1 << 36) - 1) | 2**34).to_bytes(8, "big")   # STREAMINFO total
    bomb.write_bytes(bytes(b))
    ok = write_wav(tmp_path/"ok.wav")
    c = build_corpus("c", [dict(utt="bomb", path=str(bomb), speaker="s1", label="neu"),
                           dict(utt="ok", path=str(ok), speaker="s2", label="neu")], ("neu",))
    assert c.summary()["duration_s"] < 10                      # the header's 298 h is not believed
    checked = c.check(strict=False)
    f = extract_corpus(c, get_preset("cpu"), tmp_path/"cache", strict=False, progress=False)
    for probs in (checked.problems, f.problems):
        (p,) = [p for p in probs if p.utt == "bomb"]
        assert p.where == str(bomb) and "declares 17179869184 frames" in p.reason
    assert checked.utts == ["ok"] and list(f.feats) == ["ok"]
    with pytest.raises(CorpusError, match="bomb.flac: the header declares"):
        c.check(strict=True)


def test_root_folder_that_is_a_link_or_a_file_is_named_as_such(tmp_path):
    import os
    os.symlink(tmp_path/"gone", tmp_path/"broken")
    os.symlink(tmp_path/"loop", tmp_path/"loop")
    (tmp_path/"file.txt").write_text("x")
    for name, why in [("broken", "broken link: it points to"), ("loop", "link loop"), ("file.txt", "not a folder"),
                      ("nothing", "folder not found")]:
        with pytest.raises(BadInputError, match=f"{name}: {why}.*expected layout"):
            load_corpus("ravdess", tmp_path/name)
