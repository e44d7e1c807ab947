#!/usr/bin/env bash
# Packs the library as npm would publish it, installs the tarball into a scratch project with only the
# required peers (no @effect/platform-node), and imports each entry with plain node.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tarball="$(npm pack --silent --pack-destination "$scratch" | tail -n 1)"
cd "$scratch"
npm init -y >/dev/null
npm install --silent --prefer-offline --no-audit --no-fund --legacy-peer-deps \
  "./$tarball" "effect@$(node -p 'require("'"$OLDPWD"'/node_modules/effect/package.json").version')" \
  "@effect/platform@$(node -p 'require("'"$OLDPWD"'/node_modules/@effect/platform/package.json").version')"
node --input-type=module -e '
const main = await import("effect-textreveal")
for (const name of ["Credentials", "DownloadUrl", "Retry", "Task", "TaskId", "TaskResults", "TaskResultsError", "TextRevealClient", "TextRevealError"]) {
  if (main[name] === undefined) throw new Error(`effect-textreveal does not export ${name}`)
}
const testing = await import("effect-textreveal/testing")
if (testing.TextRevealClientTest?.layer === undefined) throw new Error("effect-textreveal/testing has no TextRevealClientTest.layer")
for (const closed of ["effect-textreveal/internal/wire", "effect-textreveal/testing/internal/x", "effect-textreveal/sandbox/internal/x"]) {
  const refused = await import(closed).then(() => false, (e) => e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED")
  if (!refused) throw new Error(`${closed} is importable`)
}
// Without the optional peer @effect/platform-node the sandbox cannot load, and says which package is missing.
const sandbox = await import("effect-textreveal/sandbox").then(() => "loaded", (e) => String(e.message))
if (!sandbox.includes("@effect/platform-node")) throw new Error(`effect-textreveal/sandbox: ${sandbox}`)
console.log("package: main and testing entries import with plain node; internals closed")
'
# The command is one self-contained file: it runs from the installed package with plain node.
node_modules/.bin/textreveal --help > /dev/null
echo "package: the textreveal command runs from the installed tarball"
