"""Importing emodarts_nb turns on torch's huge-page allocation of large CPU tensors (THP_MEM_ALLOC_ENABLE; see
emodarts_nb/__init__.py), unless the environment says otherwise. Seen from outside: with it, torch's CPU allocator
aligns tensors of 2 MB and more to whole pages; without it, to 64 bytes past a page boundary (glibc's mmap chunks)."""
import json, os, subprocess, sys

import pytest

PROBE = """
import json{first}
import emodarts_nb, torch
print(json.dumps([torch.randn(1 << 20).data_ptr() % 4096 == 0 for _ in range(6)]))  # 4 MB each
"""


def _page_aligned(env_value=None, torch_first=False) -> list:
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    if env_value is not None: env["THP_MEM_ALLOC_ENABLE"] = env_value
    code = PROBE.format(first="\nimport torch" if torch_first else "")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("torch_first", [False, True])
def test_import_turns_huge_pages_on(torch_first):
    assert all(_page_aligned(torch_first=torch_first))


def test_the_environment_can_keep_torchs_default():
    assert not any(_page_aligned("0"))
