#!/usr/bin/env bash
# Re-vendor the front-end assets from the npm registry into matcher/static/vendor (run by hand on upgrade).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
cp package.json "$tmp/"
(cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts >/dev/null)
dist="$tmp/node_modules/swagger-ui-dist"
mkdir -p matcher/static/vendor/swagger-ui
cp "$dist"/{swagger-ui-bundle.js,swagger-ui.css,swagger-ui-standalone-preset.js,LICENSE} matcher/static/vendor/swagger-ui/
rm -rf "$tmp"
echo "vendored swagger-ui-dist $(node -p "require('./package.json').dependencies['swagger-ui-dist']")"
