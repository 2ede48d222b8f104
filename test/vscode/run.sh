#!/usr/bin/env bash
# VS Code itself: the extension installed from the .vsix into code-server 4.100.3, driven by
# headless Chromium (playwright-core). Brings up a lab (--no-moodle) unless LAB names a running
# one, checks the activity-bar view lists its nodes and "Open Dashboard" renders the topology,
# then stops code-server and destroys the lab it created. Recipe: shared/docs/VSCODE-TESTING.md.
#   test/vscode/run.sh            (env: CODE_SERVER_DIR, LAB, MOODLE_LAB_HOME, PORT)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CS_DIR=${CODE_SERVER_DIR:-${TMPDIR:-/tmp}/moodle-lab-code-server}
PORT=${PORT:-18443}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/moodle-lab-vscode-XXXXXX")
t0=$(date +%s)
say() { printf '[vscode %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

if ! docker info >/dev/null 2>&1; then echo "skipped: Docker is not reachable" >&2; exit 0; fi
if [ ! -x /usr/bin/chromium ]; then echo "skipped: /usr/bin/chromium is missing" >&2; exit 0; fi

say "code-server 4.100.3 in $CS_DIR"
bash test/vscode/install-code-server.sh "$CS_DIR"
CS="$CS_DIR/node_modules/.bin/code-server"

say "packaging the extension"
npm run --silent package >/dev/null
VSIX="$ROOT/moodle-ha-lab.vsix"

created_lab=""
if [ -z "${LAB:-}" ]; then
  LAB=ui-vsc
  export MOODLE_LAB_HOME="$SCRATCH/lab-home"
  say "bringing up lab $LAB (--no-moodle)"
  node scripts/lab.mjs up --no-moodle --lab "$LAB" >/dev/null
  created_lab=$LAB
fi

export XDG_CONFIG_HOME="$SCRATCH/xdg/config" XDG_DATA_HOME="$SCRATCH/xdg/data" XDG_CACHE_HOME="$SCRATCH/xdg/cache" XDG_STATE_HOME="$SCRATCH/xdg/state" TMPDIR="$SCRATCH/tmp"
mkdir -p "$SCRATCH/user/User" "$SCRATCH/exts" "$SCRATCH/workspace" "$TMPDIR"
cat > "$SCRATCH/user/User/settings.json" <<JSON
{ "moodleLab.labName": "$LAB", "workbench.startupEditor": "none", "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false, "telemetry.telemetryLevel": "off" }
JSON
ARGS=(--auth none --user-data-dir "$SCRATCH/user" --extensions-dir "$SCRATCH/exts" --disable-telemetry --disable-update-check --disable-workspace-trust)
say "installing $VSIX"
"$CS" "${ARGS[@]}" --install-extension "$VSIX" >/dev/null

cleanup() {
  set +e
  if [ -n "${CS_PID:-}" ]; then kill -- "-$CS_PID" 2>/dev/null; fi
  if [ -n "$created_lab" ]; then say "destroying lab $created_lab"; node scripts/lab.mjs destroy --lab "$created_lab" >/dev/null; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

say "starting code-server on 127.0.0.1:$PORT"
setsid "$CS" "${ARGS[@]}" --bind-addr "127.0.0.1:$PORT" "$SCRATCH/workspace" >"$SCRATCH/code-server.log" 2>&1 &
CS_PID=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || { tail -n 40 "$SCRATCH/code-server.log" >&2; exit 1; }

# A scenario with a prediction, run from the palette: the quick pick answers it (outside the
# workspace: a *.scenario.yaml inside would activate the extension before its view opens).
cat > "$SCRATCH/predict-vsc.yaml" <<'YAML'
name: predict-vsc
steps:
  - up
  - predict:
      id: fails
      question: Will any request fail when web2 is killed under load?
      choices:
        - { text: "No", when: 0 }
        - { text: "Yes" }
      bound: quick.failures
      explain: HAProxy notices within about a second; requests in flight on web2 may fail.
  - load: { name: quick, users: 2, duration: 8s, journey: probe }
  - fault: kill web2
  - load: wait
  - heal
YAML

say "driving VS Code with Chromium"
if ! LAB="$LAB" PREDICT_SCENARIO="$SCRATCH/predict-vsc.yaml" node --import tsx test/vscode/smoke.ts "http://127.0.0.1:$PORT" "$SCRATCH/workspace"; then
  tail -n 40 "$SCRATCH/code-server.log" >&2
  # The extension's own output channel (what it did before the failure).
  find "$SCRATCH/user/logs" -path '*exthost*' -name '*Moodle*' -exec sh -c 'echo "--- $1"; tail -n 80 "$1"' _ {} \; >&2 2>/dev/null || true
  exit 1
fi
say "passed"
