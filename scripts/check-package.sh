#!/usr/bin/env bash
# Packs the library as npm would publish it, installs the tarball into a scratch project with only the
# required peers (no @effect/platform-node), and imports each entry with plain node; then adds the optional
# peer @effect/platform-node and runs the Promise entry (effect-textreveal/promise), which needs it.
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
// Without the optional peer @effect/platform-node the sandbox and the Promise entry cannot load, and say which
// package is missing.
for (const entry of ["effect-textreveal/sandbox", "effect-textreveal/promise"]) {
  const loaded = await import(entry).then(() => "loaded", (e) => String(e.message))
  if (!loaded.includes("@effect/platform-node")) throw new Error(`${entry}: ${loaded}`)
}
console.log("package: main and testing entries import with plain node; internals closed")
'
# The Promise entry needs the optional peer @effect/platform-node (Undici, the Node file system): with it
# installed (its own peers left out: the modules the entry loads do not need them), the entry imports with
# plain node, and a client calls a server, throws the library's error classes, and lets the process exit once
# closed.
npm install --silent --prefer-offline --no-audit --no-fund --legacy-peer-deps \
  "@effect/platform-node@$(node -p 'require("'"$OLDPWD"'/node_modules/@effect/platform-node/package.json").version')"
node --input-type=module -e '
import { createServer } from "node:http"
const promise = await import("effect-textreveal/promise")
for (const name of ["createClient", "TextRevealError", "TaskResultsError", "ConfigurationError", "ClientClosed"]) {
  if (promise[name] === undefined) throw new Error(`effect-textreveal/promise does not export ${name}`)
}
const { TextRevealError } = await import("effect-textreveal")
if (promise.TextRevealError.NotFound !== TextRevealError.NotFound) throw new Error("the promise entry has error classes of its own")
const known = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
const server = createServer((request, response) => {
  const found = request.url === `/v3/tasks/${known}/status`
  response.writeHead(found ? 200 : 404, { "content-type": "application/json" })
  response.end(JSON.stringify(found ? { status: "completed" } : { message: "not found", code: 404, reason: "not_found" }))
})
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
const client = promise.createClient({ token: "package-check", baseUrl: `http://127.0.0.1:${server.address().port}/v3` })
const status = await client.getTaskStatus(known)
if (status !== "completed") throw new Error(`getTaskStatus: ${status}`)
const error = await client.getTaskStatus("2f1a0c3e-6b7d-4e8f-9a0b-1c2d3e4f5a6b").then(() => undefined, (e) => e)
if (!(error instanceof promise.TextRevealError.NotFound)) throw new Error(`not a NotFound: ${error}`)
await client.close()
server.close()
console.log("package: the promise entry imports and calls with plain node and @effect/platform-node")
'
# The command is one self-contained file: it runs from the installed package with plain node.
node_modules/.bin/textreveal --help > /dev/null
echo "package: the textreveal command runs from the installed tarball"
