#!/usr/bin/env bash
# Moodle HA Lab — GlusterFS server entrypoint: glusterd in the foreground, logging to stderr.
# Peers, volumes and bricks live in the /var/lib/glusterd and /bricks volumes, so a restarted
# container comes back with its peers (known by hostname) and restarts its started bricks.
set -euo pipefail

# Restarts are clean starts: no pidfile, socket or lock of the previous run may survive a
# stop/start (a stale pidfile whose PID number was reused makes a daemon believe it still runs).
# The engine mounts a fresh tmpfs on /run (/var/run links to it); a container created before
# that keeps /run in its writable layer: empty it. What this image needs there is made below.
find /run -mindepth 1 -xdev -delete 2>/dev/null || true
install -d -m 1777 /run/lock

log() { printf '[gluster-entrypoint] %s\n' "$*" >&2; }

# An empty /var/lib/glusterd volume (or a bind mount) lacks glusterd's groups/ and hooks/.
for d in groups hooks; do
  if [ ! -e "/var/lib/glusterd/$d" ]; then
    cp -a "/usr/local/share/glusterd-skel/$d" "/var/lib/glusterd/$d"
  fi
done
mkdir -p /bricks /var/log/glusterfs /run/gluster

if [ -f /var/lib/glusterd/glusterd.info ]; then
  log "restarting glusterd $(sed -n 's/^UUID=//p' /var/lib/glusterd/glusterd.info) on $(hostname)"
else
  log "first start of glusterd on $(hostname)"
fi

exec glusterd --no-daemon --log-level=INFO --log-file=- -p /run/glusterd.pid
