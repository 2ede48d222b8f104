#!/usr/bin/env bash
# Moodle HA Lab — HAProxy. The engine copies /etc/haproxy/haproxy.cfg in before the first start.
# Master-worker mode (-W) in the foreground (-db), logging to stdout via the config's
# `log stdout format raw local0`.
set -euo pipefail

# Restarts are clean starts: no pidfile, socket or lock of the previous run may survive a
# stop/start (a stale pidfile whose PID number was reused makes a daemon believe it still runs).
# The engine mounts a fresh tmpfs on /run (/var/run links to it); a container created before
# that keeps /run in its writable layer: empty it. What this image needs there is made below.
find /run -mindepth 1 -xdev -delete 2>/dev/null || true
install -d -m 1777 /run/lock
install -d -o haproxy -g haproxy /run/haproxy

cfg=/etc/haproxy/haproxy.cfg
# Compose export (src/export/compose.ts): no engine copies the file in; the rendered text comes
# in HAPROXY_CFG instead. The engine never sets it.
if [ -n "${HAPROXY_CFG:-}" ]; then
  printf '%s\n' "$HAPROXY_CFG" >"$cfg"
fi
if ! haproxy -c -q -f "$cfg"; then
  echo "[haproxy-entrypoint] ERROR: $cfg is missing or invalid" >&2
  haproxy -c -f "$cfg" >&2 || true
  exit 1
fi

# A load-balancer pair (the engine copied keepalived's configuration in; the Compose export
# refuses pairs): keepalived's VRRP process holds the virtual IP while this HAProxy answers (its
# track script). It needs CAP_NET_ADMIN only (the engine adds it to these nodes).
# Started before HAProxy, in the background, logging to the container's output; HAProxy stays
# the container's main process, so a dead HAProxy stops the container and keepalived with it.
kcfg=/etc/keepalived/lab-keepalived.conf
if [ -f "$kcfg" ]; then
  install -d -m 0755 /run/keepalived
  keepalived --vrrp --dont-fork --log-console --log-detail --use-file "$kcfg" \
    --pid /run/keepalived/keepalived.pid --vrrp_pid /run/keepalived/vrrp.pid &
fi

# The Galera listeners' agent (lab/haproxy/lab-galera-agent), on loopback only: HAProxy asks it
# whether Galera has evicted a node. Unused (and harmless) in a lab without Galera.
/usr/local/bin/lab-galera-agent 9201 &

exec haproxy -W -db -f "$cfg"
