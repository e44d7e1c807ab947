/**
 * `textreveal export`, in process (the bin's program with its stdout and stderr captured) against a sandbox:
 * what it prints, its exit codes, and that a second run continues the same export.
 */
import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "effect-textreveal/sandbox"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll } from "vitest"
import { cleanUp, runInProcess as run, sandboxEnv, sha256, tempDir } from "./fixtures/cli.js"

afterAll(cleanUp)

const withSandbox = (options: Sandbox.Options = {}) => Effect.provide(Sandbox.layer(options))

const resource = "universes/42/entities"
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe("textreveal export", () => {
  it.live(
    "prints the task id, waits, downloads into --out; run again, continues the same export",
    () =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const env = sandboxEnv(sandbox)
        const out = tempDir()
        const bodyFile = path.join(out, "..", `${path.basename(out)}-body.json`)
        fs.writeFileSync(bodyFile, JSON.stringify({ size: 5 }))
        const first = yield* run(["export", resource, "--body", `@${bodyFile}`, "--out", out, "--quiet"], env)
        assert.strictEqual(first.code, 0, first.stderr)
        const [taskId, ...files] = first.stdout.trim().split("\n")
        assert.match(taskId!, uuid)
        const served = yield* sandbox.files(taskId!)
        assert.strictEqual(files.length, served.length)
        for (const line of files) {
          const [file, , hash] = line.split("\t")
          assert.strictEqual(sha256(file!), hash)
        }
        const again = yield* run(["export", resource, "--body", "{\"size\":5}", "--out", out, "--json"], env)
        assert.strictEqual(again.code, 0, again.stderr)
        assert.strictEqual(JSON.parse(again.stdout).taskId, taskId)
        const posts = (yield* sandbox.requests).filter((r) => r.route === "export")
        assert.strictEqual(posts.length, 1)
        assert.deepStrictEqual(posts[0]!.body, { size: 5 })
        fs.rmSync(bodyFile, { force: true })
      }).pipe(withSandbox({ exportTask: { files: [{ rows: 10 }, { rows: 3 }] } }))
  )

  it.live(
    "--no-download prints the task id only; a busy slot with --wait-for-slot 0 is exit code 5",
    () =>
      Effect.gen(function*() {
        const env = sandboxEnv(yield* Sandbox.Sandbox)
        const started = yield* run(["export", resource, "--no-download"], env)
        assert.strictEqual(started.code, 0, started.stderr)
        assert.match(started.stdout.trim(), uuid)
        const busy = yield* run(["export", resource, "--no-download", "--wait-for-slot", "0s"], env)
        assert.strictEqual(busy.code, 5, busy.stderr)
        assert.include(busy.stderr, "too many exports")
        assert.notInclude(busy.stderr, sandboxEnv(yield* Sandbox.Sandbox).TEXTREVEAL_PASSWORD!)
      }).pipe(withSandbox({ exportTask: { runningFor: "1 hour" } }))
  )

  it.live(
    "bad usage is exit code 2: a bad resource, a body that is not a JSON object, no --out",
    () =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const env = sandboxEnv(sandbox)
        for (
          const args of [
            ["export", "../tasks", "--no-download"],
            ["export", resource, "--body", "[1]", "--no-download"],
            ["export", resource]
          ]
        ) {
          const result = yield* run(args, env)
          assert.strictEqual(result.code, 2, `${args.join(" ")}: ${result.stderr}`)
        }
        assert.strictEqual((yield* sandbox.requests).filter((r) => r.route === "export").length, 0)
      }).pipe(withSandbox())
  )
})
