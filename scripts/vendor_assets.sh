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
nm="$tmp/node_modules"
mkdir -p matcher/static/vendor/htmx matcher/static/vendor/chartjs matcher/static/vendor/pico
cp "$nm/htmx.org/dist/htmx.min.js" "$nm/htmx.org/LICENSE" matcher/static/vendor/htmx/
cp "$nm/chart.js/dist/chart.umd.min.js" "$nm/chart.js/LICENSE.md" matcher/static/vendor/chartjs/
cp "$nm/@picocss/pico/css/pico.min.css" "$nm/@picocss/pico/LICENSE.md" matcher/static/vendor/pico/
# axe-core: injected by the browser page checks (tests/browser/pagecheck.py) only; no page loads it.
mkdir -p matcher/static/vendor/axe
cp "$nm/axe-core/axe.min.js" "$nm/axe-core/LICENSE" matcher/static/vendor/axe/
rm -rf "$tmp"
echo "vendored: $(node -p "JSON.stringify(require('./package.json').dependencies)")"
