#!/usr/bin/env bash
# Install everything emodarts_nb needs on a fresh Debian/Ubuntu machine. Safe to re-run: each step
# is skipped when it is already done, so a second run takes a few seconds.
#
#   bash tools/setup.sh            # system packages, .venv with the CPU torch wheel, the package (editable)
#   SKIP_SYSTEM=1 bash tools/setup.sh   # no apt-get (install graphviz and chromium yourself)
#
# Environment: PYTHON (default python3.11), VENV (default ./.venv), TORCH_INDEX_URL (an extra index
# that serves torch==2.13.0+cpu, for machines whose pip does not already find the CPU wheel).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3.11}
VENV=${VENV:-$ROOT/.venv}
say() { printf '[setup] %s\n' "$*"; }

# 1. System packages: graphviz's `dot` draws genotypes; Chromium runs the browser tests; KaTeX typesets the docs' maths offline.
APT_PKGS=(graphviz chromium chromium-driver libjs-katex)
if [ -z "${SKIP_SYSTEM:-}" ]; then
  missing=()
  for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
      say "installing Debian packages: ${missing[*]}"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      say "WARNING: no apt-get here. Install these yourself: ${missing[*]} (graphviz is needed to draw cells, chromium for browser tests)."
    fi
  fi
fi

# 2. Virtual environment with the CPU torch wheel, then the package in editable mode with its dev tools.
command -v "$PY" >/dev/null 2>&1 || { echo "[setup] ERROR: $PY not found. Set PYTHON=/path/to/python3.11 (3.10 to 3.12 work)." >&2; exit 1; }
[ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PY" -m venv "$VENV"; }
STAMP="$VENV/.emodarts-setup"
want=$(cat pyproject.toml setup.py tools/constraints.txt tools/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  # --no-compile, then one compileall over site-packages on every core: the same .pyc files as pip's own
  # one-file-at-a-time compilation, about 10 s sooner (a fresh setup on 2 cores, two pairs of runs: 70.7 and 81.9 s
  # with pip compiling, 60.1 and 71.5 s so)
  PIP_CMD=("$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-compile)
  [ -n "${TORCH_INDEX_URL:-}" ] && PIP_CMD+=(--extra-index-url "$TORCH_INDEX_URL")
  # pip's status is kept (pipefail); only its "Location ... is ignored" chatter about local indexes is dropped.
  PIP() { "${PIP_CMD[@]}" "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }; }
  say "installing torch (CPU) and emodarts_nb[dev] into $VENV"
  PIP -c tools/constraints.txt "torch==2.13.0+cpu"
  PIP -c tools/constraints.txt -e ".[dev]"
  # Optional: torchaudio's PyPI wheel is CUDA-linked; its pure-Python transforms work on the CPU torch
  # once its compiled extensions are removed (see ../shared/STACK.md). emodarts_nb never needs it.
  if PIP --no-deps "torchaudio==2.11.0" >/dev/null; then
    ta=$("$VENV/bin/python" -c "import importlib.util as u, os; print(os.path.dirname(u.find_spec('torchaudio').origin))")
    rm -f "$ta"/lib/*.so
    "$VENV/bin/python" -c "import torchaudio.transforms" 2>/dev/null || say "torchaudio does not import; its optional test will be skipped"
  fi
  if "$VENV/bin/python" -c "import torch,sys; sys.exit(0 if torch.version.cuda else 1)"; then
    echo "[setup] ERROR: a CUDA build of torch was installed; remove $VENV and re-run." >&2; exit 1
  fi
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # its status is 1 for the few files written for a newer Python (torch's py312 tests), which pip skips as well
  "$VENV/bin/python" -m compileall -q -j 0 "$site" >/dev/null || true
  echo "$want" > "$STAMP"
fi
say "ready: $("$VENV/bin/python" -c 'import torch, emodarts_nb; print("emodarts_nb", emodarts_nb.__version__, "torch", torch.__version__)')"
