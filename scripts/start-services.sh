#!/usr/bin/env bash
# Starts the real services the tests talk to, if they are not running: PostgreSQL on
# 127.0.0.1:5432 (trust auth; the cluster store and the `postgres` step kind) and NATS with
# JetStream on 127.0.0.1:4222 (the cluster work queue and the `nats` step kind). Uses the
# machine's own Debian packages and start commands; idempotent; never fails CI by itself (a test
# that needs a missing service says so).
# Usage: scripts/start-services.sh   (CI calls it before `make test`)
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_open 5432; then
    echo "postgresql: running"
elif command -v pg_ctlcluster >/dev/null 2>&1 && [[ -d /etc/postgresql ]]; then
    for version in /etc/postgresql/*; do
        pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start || true
    done
    for _ in $(seq 50); do port_open 5432 && break; sleep 0.2; done
    port_open 5432 && echo "postgresql: started" || echo "postgresql: could not start" >&2
else
    echo "postgresql: not installed; its tests will be skipped" >&2
fi

if port_open 4222; then
    echo "nats: running"
elif command -v nats-server >/dev/null 2>&1 || [[ -x /usr/sbin/nats-server ]]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
        -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
    for _ in $(seq 50); do port_open 4222 && break; sleep 0.2; done
    port_open 4222 && echo "nats: started" || echo "nats: could not start" >&2
else
    echo "nats: not installed; its tests will be skipped" >&2
fi
exit 0
