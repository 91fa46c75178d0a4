#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios) against
# `agenthub serve` with the fixture catalog (playbooks/.conformance), for both protocol revisions, and
# prints how many scenarios and checks pass. Needs Node 22 in .tools/ (scripts/install-node-tools.sh);
# installs the suite there on first use. Not part of CI yet: the hub does not pass every scenario
# (see README, "What MCP clients see"). Exit code: 0 only if every scored scenario passed.
# Usage: scripts/conformance.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${1:-18765}
SUITE=@modelcontextprotocol/conformance@0.2.0-alpha.12
BIN=.tools/node_modules/.bin
RUNNER=.tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js  # its own prefix: leaves the other tools alone
[[ -x "$BIN/node" ]] || { echo "no Node 22 in .tools: run scripts/install-node-tools.sh" >&2; exit 2; }
[[ -f "$RUNNER" ]] || PATH="$PWD/$BIN:$PATH" npm install --prefix .tools/conformance --no-audit --no-fund --loglevel=error "$SUITE"

WORK=$(mktemp -d)
.venv/bin/agenthub serve --port "$PORT" --catalog playbooks/.conformance --db "$WORK/hub.db" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

status=0
for revision in 2025-11-25 2026-07-28; do
    "$BIN/node" "$RUNNER" server --url "http://localhost:$PORT/mcp" --requirements "$revision" >"$WORK/$revision.txt" 2>&1 || status=1
    passed=$(grep -cE '^✓ ' "$WORK/$revision.txt" || true)
    total=$(grep -cE '^(✓|✗) ' "$WORK/$revision.txt" || true)
    echo "$revision: $passed of $total scenarios pass; $(grep -E '^Total' "$WORK/$revision.txt")"
    grep -E '^✗ ' "$WORK/$revision.txt" | sed 's/^/  /'
    sed -n '/^Not scored/,$p' "$WORK/$revision.txt" | head -1
done
exit $status
