#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3, the last release on Node 20) into a scratch folder
# without its GitHub downloads (recipe: shared/docs/VSCODE-TESTING.md). ≈ 40–50 s, ≈ 320 MB.
#   test/vscode/install-code-server.sh DIR
set -euo pipefail
DIR=${1:?usage: install-code-server.sh DIR}
VERSION=4.100.3
if [ -f "$DIR/.ready-$VERSION" ]; then exit 0; fi
missing=()
for p in chromium ripgrep build-essential libkrb5-dev libxkbfile-dev libsecret-1-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{"name":"code-server-scratch","private":true}' > package.json
npm install --no-fund --no-audit --loglevel=error "code-server@$VERSION" --ignore-scripts
(cd node_modules/argon2 && npm_config_nodedir=/usr node ../@mapbox/node-pre-gyp/bin/node-pre-gyp install --fallback-to-build >/dev/null)
VS="$DIR/node_modules/code-server/lib/vscode"
(cd "$VS" && npm install --no-fund --no-audit --loglevel=error --omit=dev --ignore-scripts)
mkdir -p "$VS/node_modules/@vscode/ripgrep/bin"
cp /usr/bin/rg "$VS/node_modules/@vscode/ripgrep/bin/rg"
for d in "$VS"/node_modules/* "$VS"/node_modules/@*/*; do
  if [ -f "$d/binding.gyp" ]; then
    name=${d#"$VS/node_modules/"}
    (cd "$VS" && npm_config_yes=true npm_config_nodedir=/usr npm rebuild --loglevel=error "$name" >/dev/null)
  fi
done
(cd "$VS" && ln -sfn node_modules node_modules.asar)
(cd "$VS/bin/remote-cli" && ln -sfn code-linux.sh code-server)
(cd "$VS/bin/helpers" && ln -sfn browser-linux.sh browser.sh)
(cd "$VS/extensions" && npm install --no-fund --no-audit --loglevel=error --omit=dev --ignore-scripts)
touch "$DIR/.ready-$VERSION"
echo "code-server $VERSION installed in $DIR" >&2
