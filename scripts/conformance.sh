#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios) against
# `agenthub serve` with a temporary copy of the fixture catalog (playbooks/.conformance), for both
# protocol revisions the hub serves, and prints how many scenarios and checks pass. CI runs it (.ci/run).
#
# Exit code: 0 only when every failure is listed in scripts/conformance-expected-failures.yaml and
# no listed one passes now (the suite's own baseline check), for both revisions; 1 otherwise.
# Needs Node 22 in .tools/ (scripts/install-node-tools.sh); installs the suite there on first use.
# Usage: scripts/conformance.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${1:-18765}
SUITE=@modelcontextprotocol/conformance@0.2.0-alpha.12
BIN=.tools/node_modules/.bin
RUNNER=.tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js  # its own prefix: leaves the other tools alone
EXPECTED=scripts/conformance-expected-failures.yaml
[[ -x "$BIN/node" ]] || { echo "no Node 22 in .tools: run scripts/install-node-tools.sh" >&2; exit 2; }
[[ -f "$RUNNER" ]] || PATH="$PWD/$BIN:$PATH" npm install --prefix .tools/conformance --no-audit --no-fund --loglevel=error "$SUITE"

WORK=$(mktemp -d)
# a copy of the fixture catalog: test_trigger_tool_change / test_trigger_prompt_change add and
# remove documents in the catalog they are served from (AGENTHUB_CONFORMANCE_CATALOG), so the
# hub's own watcher sends list_changed; the repository's folder is never written
cp -R playbooks/.conformance "$WORK/catalog"
AGENTHUB_CONFORMANCE_CATALOG="$WORK/catalog" \
    .venv/bin/agenthub serve --port "$PORT" --catalog "$WORK/catalog" --db "$WORK/hub.db" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "agenthub serve did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }

status=0
for revision in 2025-11-25 2026-07-28; do
    "$BIN/node" "$RUNNER" server --url "http://localhost:$PORT/mcp" --requirements "$revision" \
        --expected-failures "$EXPECTED" >"$WORK/$revision.txt" 2>&1 || status=1
    passed=$(grep -cE '^✓ ' "$WORK/$revision.txt" || true)
    total=$(grep -cE '^(✓|✗) ' "$WORK/$revision.txt" || true)
    echo "$revision: $passed of $total scenarios pass; $(grep -E '^Total' "$WORK/$revision.txt")"
    grep -E '^✗ ' "$WORK/$revision.txt" | sed 's/^/  /' || true
    sed -n '/^Not scored/,$p' "$WORK/$revision.txt" | head -1
    # the suite's baseline verdict: expected failures (~), stale entries, unexpected failures (✗)
    sed -n '/Expected failures (in baseline)\|Stale baseline\|Unexpected failures (not/,$p' "$WORK/$revision.txt" \
        | sed 's/\x1b\[[0-9;]*m//g' | sed 's/^/  /'
done
exit $status
