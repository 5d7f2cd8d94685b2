"Speaker-independent protocols: every protocol on corpora shaped like the real ones; no speaker in two parts."
import pandas as pd
import pytest

from emodarts_nb.core import BadInputError
from emodarts_nb.corpus import Corpus
from emodarts_nb.protocols import (PROTOCOLS, Fold, Split, check_fold, folds_table, get_fold, make_folds,
                                   pick_valid_speakers, register_protocol)


def corpus(name, speakers, per_speaker=3, labels=("ang", "hap", "neu", "sad"), split=None):
    "A table-only corpus: `speakers` is [(speaker, gender, session)], `split` maps a speaker to its split."
    rows = [dict(utt=f"{spk}_{k:03d}", path=f"/x/{spk}_{k}.wav", speaker=spk, gender=g, session=ses,
                 label=labels[(i + k) % len(labels)]) for i, (spk, g, ses) in enumerate(speakers) for k in range(per_speaker)]
    t = pd.DataFrame(rows)
    if split: t["split"] = [split(s) for s in t.speaker]
    return Corpus(name, t, labels)


IEMOCAP = corpus("iemocap_emodarts", [(f"{s:02d}_{g}", g, f"Ses{s:02d}") for s in range(1, 6) for g in "FM"])
MSP_IMPROV = corpus("msp_improv", [(f"{g}{s:02d}", g, f"session{s}") for s in range(1, 7) for g in "FM"])
PODCAST = corpus("msp_podcast", [(str(i), "FM"[i % 2], None) for i in (1, 2, 30, 45, 100, 1000, 7, 8, 9, 11)],
                 split=lambda s: {"1": "Test1", "2": "Test1", "30": "Development", "45": "Test2"}.get(s, "Train"))
EMODB = corpus("emodb", [(s, g, None) for s, g in [("03", "M"), ("08", "F"), ("09", "F"), ("10", "M"), ("11", "M")]],
               labels=("anger", "boredom", "neutral"))

# (corpus, protocol, kwargs, expected number of folds, covers every utterance)
CASES = [
    (IEMOCAP, "loso", {}, 10, True), (IEMOCAP, "loso_session", {}, 5, True), (IEMOCAP, "speaker_groups", {"k": 5}, 5, True),
    (IEMOCAP, "emodarts", {}, 5, True), (MSP_IMPROV, "loso_session", {}, 6, True), (MSP_IMPROV, "emodarts", {}, 4, True),
    (MSP_IMPROV, "speaker_groups", {"k": 4}, 4, True), (PODCAST, "official", {}, 1, False), (PODCAST, "emodarts", {}, 5, False),
    (PODCAST, "loso", {}, 10, True), (EMODB, "loso", {}, 5, True), (EMODB, "speaker_groups", {"k": 2}, 2, True),
]


@pytest.mark.parametrize("c,protocol,kw,n,covers", CASES, ids=[f"{c.name}-{p}" for c, p, *_ in CASES])
def test_protocol_is_speaker_independent(c, protocol, kw, n, covers):
    for valid in (1, 2, 0.25, 0):
        if protocol == "official" and valid != 1: continue          # validation = Development, not carved
        pools = [len(set(c.table.speaker[c.table.utt.isin(s.train)])) for s in PROTOCOLS[protocol](c, **kw)]
        if valid >= min(pools):                                     # would leave a fold without training speakers
            with pytest.raises(BadInputError, match="leaves no training speaker"): make_folds(c, protocol, valid_speakers=valid, **kw)
            continue
        folds = make_folds(c, protocol, valid_speakers=valid, **kw)
        assert len(folds) == n
        spk = dict(zip(c.table.utt, c.table.speaker))
        for f in folds:
            parts = {p: {spk[u] for u in us} for p, us in f.parts().items()}
            assert not parts["train"] & parts["valid"] and not parts["train"] & parts["test"] and not parts["valid"] & parts["test"]
            assert f.train and f.test
            utts = f.train + f.valid + f.test
            assert len(utts) == len(set(utts))
            if covers: assert sorted(utts) == sorted(c.utts)
            if protocol != "official": assert (len(parts["valid"]) > 0) == (valid != 0)
        tested = sorted(u for f in folds for u in f.test)
        assert len(tested) == len(set(tested))                       # no utterance is tested twice
        if protocol in ("loso", "loso_session", "speaker_groups") and covers or (protocol, c.name) == ("emodarts", IEMOCAP.name):
            assert tested == sorted(c.utts)                          # ... and each one once (emodarts: IEMOCAP's 5 pairs)


def test_emodarts_folds_match_the_official_code():
    held = [f.held_out for f in make_folds(IEMOCAP, "emodarts")]
    assert held == [("01_M", "02_F"), ("02_M", "03_F"), ("03_M", "04_F"), ("04_M", "05_F"), ("05_M", "01_F")]
    assert [f.held_out for f in make_folds(MSP_IMPROV, "emodarts")] == [("session1",), ("session2",), ("session3",), ("session5",)]
    # other spellings of the IEMOCAP speakers are recognised by session number and sex
    other = corpus("iemocap", [(f"Ses{s:02d}{g}", g, str(s)) for s in range(1, 6) for g in "FM"])
    assert [f.held_out for f in make_folds(other, "emodarts")][0] == ("Ses01M", "Ses02F")
    # MSP-Podcast: Development is discarded, Test1/Test2 join the pool, speakers grouped in text order
    pod = make_folds(PODCAST, "emodarts", valid_speakers=0)
    assert not any(u.startswith("30_") for f in pod for u in f.train + f.test)


def test_official_split():
    f, = make_folds(PODCAST, "official")
    sp = f.speakers(PODCAST)
    assert sp == {"train": ["100", "1000", "11", "7", "8", "9"], "valid": ["30"], "test": ["1", "2"]}
    assert make_folds(PODCAST, "official", test="Test2")[0].speakers(PODCAST)["test"] == ["45"]


def test_valid_part_is_seeded_and_sex_balanced():
    a = make_folds(IEMOCAP, "emodarts", valid_speakers=2, seed=3)
    assert a == make_folds(IEMOCAP, "emodarts", valid_speakers=2, seed=3)
    assert any(x != y for x, y in zip(a, make_folds(IEMOCAP, "emodarts", valid_speakers=2, seed=4)))
    for f in a: assert sorted(s[-1] for s in f.speakers(IEMOCAP)["valid"]) == ["F", "M"]
    f = get_fold(IEMOCAP, "loso", "01_F", valid_speakers=["03_M"])
    assert f.speakers(IEMOCAP)["valid"] == ["03_M"]
    folds = make_folds(IEMOCAP, "loso", valid_speakers=["03_M", "04_F"])    # a listed speaker held out stays in test
    assert [f.speakers(IEMOCAP)["valid"] for f in folds if f.name in ("03_M", "01_F")] == [["03_M", "04_F"], ["04_F"]]
    with pytest.raises(BadInputError, match="not speakers of corpus"): make_folds(IEMOCAP, "loso", valid_speakers=["9_F"])


def test_clear_errors():
    with pytest.raises(BadInputError, match="known: emodarts, loso, loso_dev, loso_session, official, speaker_groups"):
        make_folds(IEMOCAP, "kfold")
    with pytest.raises(BadInputError, match=r"use an index 0..4 or a name: fold1"): get_fold(IEMOCAP, "emodarts", 5)
    with pytest.raises(BadInputError, match="use an index"): get_fold(IEMOCAP, "emodarts", "fold9")
    with pytest.raises(BadInputError, match="has no sessions"): make_folds(EMODB, "loso_session")
    with pytest.raises(BadInputError, match="has no 'split' column"): make_folds(IEMOCAP, "official")
    with pytest.raises(BadInputError, match="defined for IEMOCAP, MSP-IMPROV and MSP-Podcast only"): make_folds(EMODB, "emodarts")
    with pytest.raises(BadInputError, match="2 <= k <= number of speakers"): make_folds(EMODB, "speaker_groups", k=6)
    with pytest.raises(BadInputError, match="leaves no training speaker"): make_folds(EMODB, "loso", valid_speakers=4)
    with pytest.raises(BadInputError, match="no utterance has split 'Test3'"): make_folds(PODCAST, "official", test="Test3")


def test_a_registered_protocol_is_checked():
    @register_protocol("leaky")
    def leaky(c):
        return [Split("bad", test=c.utts[:2], train=c.utts[1:])]      # one utterance (and speaker) in both parts
    try:
        with pytest.raises(BadInputError, match="are in both train and test"): make_folds(EMODB, "leaky", valid_speakers=0)
    finally:
        PROTOCOLS.pop("leaky")


def test_fold_round_trip_and_table():
    f = make_folds(EMODB, "loso")[0]
    assert Fold.from_dict(f.to_dict()) == f and check_fold(EMODB, f) is f
    t = folds_table(EMODB, make_folds(EMODB, "loso"))
    assert list(t.index) == ["03", "08", "09", "10", "11"] and (t.test == 3).all()
    assert "fold 03: train" in f.describe(EMODB)


def test_on_loader_fixture_trees(tmp_path):
    "The real loaders' output (stream B's fixture trees) goes through the emoDARTS and official protocols."
    import emodarts_nb.testing as fx
    from emodarts_nb.corpus import load_corpus
    iemo = load_corpus("iemocap_emodarts", fx.make_iemocap_tree(tmp_path / "i"), strict=False)
    assert [f.held_out for f in make_folds(iemo, "emodarts")][0] == ("01_M", "02_F")
    msp = load_corpus("msp_improv", fx.make_msp_improv_tree(tmp_path / "m"), strict=False)
    assert len(make_folds(msp, "emodarts")) == 4 and len(make_folds(msp, "loso_session")) == 6
    pod = load_corpus("msp_podcast", fx.make_msp_podcast_tree(tmp_path / "p"), strict=False)
    assert make_folds(pod, "official")[0].test


@pytest.mark.parametrize("fold", [-1, "-1", -5, 5, "fold6", 1.0, True, None])
def test_fold_outside_the_protocol_is_an_error_naming_the_valid_ones(fold):
    "--fold -1 once meant the last fold without a word; now every index outside 0..n-1 is refused with the names."
    with pytest.raises(BadInputError) as e:
        get_fold(IEMOCAP, "emodarts", fold)
    msg = str(e.value)
    assert f"fold {fold!r}: not a fold of protocol 'emodarts'" in msg
    assert "use an index 0..4 or a name: fold1, fold2" in msg
    if fold in (-1, "-1", -5): assert "indices count from 0, and -1 is not the last fold" in msg
