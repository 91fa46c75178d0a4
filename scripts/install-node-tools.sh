#!/usr/bin/env bash
# Installs the Node tools some tests use into .tools/ (git-ignored), from the npm registry:
#   - node@22: the MCP reference servers and the conformance/inspector tools need Node >= 22,
#     and the machine may have an older one; the npm package ships the binary, so no system change.
#   - @modelcontextprotocol/server-everything: the reference "everything" MCP server, which the
#     `mcp` step kind is tested against over stdio (tests/mcp_kind/test_mcp_kind_everything.py).
#   - @modelcontextprotocol/inspector: its CLI lists and calls the hub's tools over stdio and HTTP
#     (tests/http/test_inspector_cli.py), a second, independent MCP client.
# Idempotent: a second run with everything present only checks and returns.
# Usage: scripts/install-node-tools.sh   (CI calls it before `make test`)
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=.tools
BIN="$TOOLS/node_modules/.bin"
PACKAGES=(node@22 @modelcontextprotocol/server-everything@2026.8.31 @modelcontextprotocol/inspector@2.12.0)

if [[ -x "$BIN/node" && -x "$BIN/mcp-server-everything" && -x "$BIN/mcp-inspector" ]]; then
    echo "node tools present: $("$BIN/node" --version), $(ls "$TOOLS/node_modules/@modelcontextprotocol")"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "npm is not installed; the tests that need Node tools will be skipped" >&2
    exit 0
fi
mkdir -p "$TOOLS"
npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "${PACKAGES[@]}"
echo "installed into $TOOLS: node $("$BIN/node" --version)"
