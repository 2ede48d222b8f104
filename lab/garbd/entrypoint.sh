#!/usr/bin/env bash
# Moodle HA Lab — the Galera arbitrator. Joins the cluster GALERA_CLUSTER_NAME at
# GALERA_CLUSTER_ADDRESS (the data nodes) as GARBD_NAME, with the data nodes' failure-detection
# timing. garbd exits when it loses the cluster (e.g. every data node stopped): it then tries
# again, so it rejoins once a data node is back. SIGTERM ends it.
set -euo pipefail
log() { printf '[garbd-entrypoint] %s\n' "$*" >&2; }
: "${GALERA_CLUSTER_NAME:?}" "${GALERA_CLUSTER_ADDRESS:?}"
name=${GARBD_NAME:-$(hostname)}
options="gmcast.listen_addr=tcp://0.0.0.0:4567;evs.keepalive_period=PT0.3S;evs.inactive_check_period=PT0.25S;evs.suspect_timeout=PT1S;evs.inactive_timeout=PT2S;evs.join_retrans_period=PT0.3S"
pid=
trap 'log "stopping"; [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' TERM INT
while true; do
  log "joining '$GALERA_CLUSTER_NAME' at $GALERA_CLUSTER_ADDRESS as $name"
  garbd --address "$GALERA_CLUSTER_ADDRESS" --group "$GALERA_CLUSTER_NAME" --name "$name" --options "$options" &
  pid=$!
  rc=0
  wait "$pid" || rc=$?
  log "garbd exited ($rc); joining again in 1 s"
  # A pause between attempts (not a readiness wait): garbd retries a cluster that is not there.
  sleep 1
done
