#!/usr/bin/env bash
# Moodle HA Lab — web node: env for PHP, Gluster FUSE mount of moodledata, Apache in the foreground.
set -euo pipefail

# Restarts are clean starts: no pidfile, socket or lock of the previous run may survive a
# stop/start (a stale pidfile whose PID number was reused makes a daemon believe it still runs).
# The engine mounts a fresh tmpfs on /run (/var/run links to it); a container created before
# that keeps /run in its writable layer: empty it. What this image needs there is made below.
find /run -mindepth 1 -xdev -delete 2>/dev/null || true
install -d -m 1777 /run/lock

log() { printf '[web-entrypoint] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for name in LAB_NODE MOODLEDATA; do
  [ -n "${!name:-}" ] || die "environment variable $name is required"
done
for name in DB_HOST DB_PORT DB_READ_PORT DB_NAME DB_USER DB_PASSWORD PROBE_DB_NAME; do
  [ -n "${!name:-}" ] || log "warning: $name is not set"
done

# 1. The environment as a PHP array, readable by www-data only: PHP never depends on Apache
#    passing the environment through. var_export quotes every value safely.
install -d -o root -g www-data -m 0750 /etc/moodle-lab
tmp=$(mktemp /etc/moodle-lab/.env.XXXXXX)
php -n -r '
  $keys = ["LAB_NODE", "DB_HOST", "DB_PORT", "DB_READ_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD",
           "PROBE_DB_NAME", "REDIS_HOST", "REDIS_PASSWORD", "GLUSTER_SERVERS", "GLUSTER_VOLUME",
           "MOODLEDATA", "MOODLE_WWWROOT", "MOODLE_USERS_PASSWORD"];
  $env = [];
  foreach ($keys as $k) { $v = getenv($k); $env[$k] = $v === false ? "" : $v; }
  echo "<?php\n// Written by web-entrypoint at container start.\nreturn ", var_export($env, true), ";\n";
' >"$tmp"
chown root:www-data "$tmp"
chmod 0640 "$tmp"
mv -f "$tmp" /etc/moodle-lab/env.php

# 2. Mount the Gluster volume (FUSE): first server, the others as backup volfile servers.
#    Without GLUSTER_SERVERS (the `single` topology) moodledata is a local folder.
if [ -z "${GLUSTER_SERVERS:-}" ]; then
  install -d -o www-data -g www-data -m 0770 "$MOODLEDATA"
  log "no GLUSTER_SERVERS: $MOODLEDATA is a local folder"
else
IFS=',' read -r -a servers <<<"$GLUSTER_SERVERS"
primary=${servers[0]}
backups=$(IFS=':'; echo "${servers[*]:1}")
opts="log-level=WARNING"
[ -n "$backups" ] && opts="backup-volfile-servers=$backups,$opts"
src="$primary:/$GLUSTER_VOLUME"

mkdir -p "$MOODLEDATA"
timeout_s=${LAB_MOUNT_TIMEOUT:-90}
deadline=$((SECONDS + timeout_s))
attempt=0
# Mounted AND usable: with client quorum not met yet the mount exists but is read-only.
until mountpoint -q "$MOODLEDATA" && timeout 10 chown www-data:www-data "$MOODLEDATA" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || {
    tail -n 20 /var/log/glusterfs/*.log >&2 2>/dev/null || true
    die "could not mount $src on $MOODLEDATA within ${timeout_s}s"
  }
  if ! mountpoint -q "$MOODLEDATA"; then
    attempt=$((attempt + 1))
    log "mounting $src on $MOODLEDATA (-o $opts), attempt $attempt"
    timeout 30 mount -t glusterfs -o "$opts" "$src" "$MOODLEDATA" >&2 || true
    mountpoint -q "$MOODLEDATA" && continue
  fi
  sleep 1
done
chmod 0770 "$MOODLEDATA"
log "$src mounted on $MOODLEDATA"
fi

# Compose export (src/export/compose.ts): its one-shot moodle-install service passes a command;
# it runs here, with env.php and moodledata in place, instead of Apache. The engine passes none.
if [ $# -gt 0 ]; then exec "$@"; fi

# 3. Apache in the foreground as PID 1 (SIGWINCH stops it gracefully, SIGTERM at once).
# envvars reads optional variables (APACHE_CONFDIR, ...): source it without `set -u`.
set +u
# shellcheck disable=SC1091
. /etc/apache2/envvars
set -u
install -d -o "$APACHE_RUN_USER" -g "$APACHE_RUN_GROUP" "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR"
rm -f "$APACHE_PID_FILE"
exec apache2 -DFOREGROUND
