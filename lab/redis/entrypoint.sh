#!/usr/bin/env bash
# Moodle HA Lab — Redis (PHP sessions of the web nodes). No persistence: a restart loses the
# sessions, which is what the lab shows.
set -euo pipefail
# Restarts are clean starts: the engine mounts a fresh tmpfs on /run, and redis-server (in the
# foreground, no pidfile, no unix socket) keeps no runtime state there. This runs as the redis
# user, which could not empty /run anyway.

if [ -z "${REDIS_PASSWORD:-}" ]; then
  echo "[redis-entrypoint] ERROR: environment variable REDIS_PASSWORD is required" >&2
  exit 1
fi

exec redis-server --bind 0.0.0.0 --port 6379 --protected-mode no \
  --requirepass "$REDIS_PASSWORD" \
  --save '' --appendonly no \
  --dir /tmp --logfile '' --loglevel notice
