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

# Compose export (src/export/compose.ts): no engine runs lab-volume-setup once every glusterd is
# up, so the first node runs it itself in the background when LAB_VOLUME_SETUP ("<volume>
# <host>...") is set (the engine never sets it); /run/lab-volume-ready tells its health check.
# The setup is idempotent: a step that failed (a gluster command over its 30 s on a loaded host)
# is retried by running it again.
if [ -n "${LAB_VOLUME_SETUP:-}" ]; then
  read -r -a setup_args <<<"$LAB_VOLUME_SETUP"
  # Detached (reparented to PID 1, which reaps it); it waits for the local glusterd itself.
  ( (until lab-volume-setup "${setup_args[@]}"; do log "lab-volume-setup failed: running it again in 5 s"; sleep 5; done
     touch /run/lab-volume-ready) </dev/null & )
fi

exec glusterd --no-daemon --log-level=INFO --log-file=- -p /run/glusterd.pid
