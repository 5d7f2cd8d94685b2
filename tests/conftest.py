import os
from pathlib import Path
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def emodb():
    "The real EmoDB copy from ../shared/data/emodb; tests that need it are skipped with the reason when it is absent."
    base = Path(os.environ.get("EMODARTS_SHARED_DATA") or ROOT.parent / "shared" / "data")
    d = base / "emodb"
    if not d.is_dir():
        pytest.skip(f"real EmoDB not found at {d}: put it there, or set EMODARTS_SHARED_DATA "
                    "to the folder holding emodb/")
    return d


@pytest.fixture(scope="session")
def emodb_subset(emodb, tmp_path_factory):
    """EmoDB's real files and flat layout, two utterances per speaker and emotion (about a quarter of the corpus),
    linked from `emodb`: for tests that run a whole command on it, where every speaker and class must be there
    but not every utterance."""
    import collections
    out, kept = tmp_path_factory.mktemp("emodb_subset") / "emodb", collections.Counter()
    out.mkdir()
    for p in sorted(emodb.glob("*.wav")):
        key = (p.name[:2], p.name[5])                  # speaker, emotion letter (SSTTTEV.wav)
        if kept[key] < 2:
            kept[key] += 1
            (out / p.name).symlink_to(p.resolve())
    assert len(kept) >= 60 and len({s for s, _ in kept}) == 10, f"{emodb}: expected 10 speakers x 7 emotions"
    return out


@pytest.fixture(scope="session")
def emodarts_cmd():
    "The installed `emodarts` console script of this environment."
    from forked import emodarts_script
    exe = emodarts_script()
    assert Path(exe).exists(), f"{exe} missing: run `bash tools/setup.sh` (installs the package and its console script)"
    return exe


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: minutes of CPU; run with EMODARTS_SLOW=1 or -m slow")


def pytest_collection_modifyitems(config, items):
    "Tests marked slow run only when asked for (EMODARTS_SLOW=1, or -m slow), and say so when skipped."
    if os.environ.get("EMODARTS_SLOW") or "slow" in (config.getoption("-m") or ""): return
    skip = pytest.mark.skip(reason="slow (minutes): set EMODARTS_SLOW=1 or run -m slow")
    for item in items:
        if "slow" in item.keywords: item.add_marker(skip)
