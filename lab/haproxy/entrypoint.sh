#!/usr/bin/env bash
# Moodle HA Lab — HAProxy. The engine copies /etc/haproxy/haproxy.cfg in before the first start.
# Master-worker mode (-W) in the foreground (-db), logging to stdout via the config's
# `log stdout format raw local0`.
set -euo pipefail

cfg=/etc/haproxy/haproxy.cfg
if ! haproxy -c -q -f "$cfg"; then
  echo "[haproxy-entrypoint] ERROR: $cfg is missing or invalid" >&2
  haproxy -c -f "$cfg" >&2 || true
  exit 1
fi

exec haproxy -W -db -f "$cfg"
