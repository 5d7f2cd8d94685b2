import os, sys
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
def emodarts_cmd():
    "The installed `emodarts` console script of this environment."
    exe = Path(sys.executable).parent / "emodarts"
    assert exe.exists(), f"{exe} missing: run `bash tools/setup.sh` (installs the package and its console script)"
    return str(exe)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: minutes of CPU; run with EMODARTS_SLOW=1 or -m slow")


# The longest tests (seconds on a fresh clone, 2 workers, from `--durations`), started first: with pytest-xdist the
# workers then finish close together instead of one running a minute-long test alone at the end.
LONGEST_FIRST = ("tests/test_cli.py::test_every_readme_command_runs",                  # 65 s
                 "tests/test_cli.py::test_readme_demo_ends_without_a_collapsed_cell",  # 64 s
                 "tests/test_experiment.py::test_ray_local_two_workers_same_table",    # 36 s + the report test, 46 s (Ray group)
                 "tests/test_browser.py::test_explorer_in_jupyterlab",                 # 45 s
                 "tests/test_cli.py::test_readme_chain_search_retrain_predict_export", # 42 s
                 "tests/test_docs_site.py",                                            # 34 s Chromium visit + checks
                 "tests/test_cli.py::test_resume_is_locked_to_what_the_run_computes",  # 27 s, 26 s
                 "tests/test_search.py::test_resume_after_sigkill_gives_the_same_search",  # 20-27 s each
                 "tests/test_train.py::test_resume_after_sigkill_gives_the_same_run")      # 15-21 s each


def pytest_collection_modifyitems(config, items):
    "The longest tests first (LONGEST_FIRST, in its order); tests marked slow run only when asked for (EMODARTS_SLOW=1,"
    " or -m slow), and say so when skipped."
    rank = lambda it: next((i for i, p in enumerate(LONGEST_FIRST) if it.nodeid.startswith(p)), len(LONGEST_FIRST))
    items.sort(key=rank)                                     # stable: the rest keep their order
    if os.environ.get("EMODARTS_SLOW") or "slow" in (config.getoption("-m") or ""): return
    skip = pytest.mark.skip(reason="slow (minutes): set EMODARTS_SLOW=1 or run -m slow")
    for item in items:
        if "slow" in item.keywords: item.add_marker(skip)
