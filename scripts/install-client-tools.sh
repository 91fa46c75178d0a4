#!/usr/bin/env bash
# Installs the third-party MCP clients some tests drive into .venv-clients/ (git-ignored), from PyPI:
#   - langchain-mcp-adapters (with langchain-core): a LangChain agent loop calls the hub's tools
#     (tests/mcp/test_langchain_agent_loop.py). It needs the 1.x `mcp` SDK while the hub runs on
#     2.x, so it gets its own venv; the test drives it as a subprocess.
# Idempotent: with everything present it only checks and returns.
# Usage: scripts/install-client-tools.sh   (CI calls it before `make test`)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-clients
PACKAGES=("langchain-mcp-adapters==0.3.2" "langchain-core>=1.3,<2")

if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c "import langchain_mcp_adapters, langchain_core" 2>/dev/null; then
    echo "client tools present in $VENV"
    exit 0
fi
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet "${PACKAGES[@]}"
echo "installed into $VENV: ${PACKAGES[*]}"
