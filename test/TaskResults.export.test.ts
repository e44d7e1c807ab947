import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Export from "../src/internal/taskResults/export.js"
import { exportName } from "../src/internal/taskResults/manifest.js"
import * as Sandbox from "../src/sandbox/Sandbox.js"
import * as TaskResults from "../src/TaskResults.js"

const resource = "universes/u1/entities"

const directory = () => fs.mkdtempSync(nodePath.join(os.tmpdir(), "textreveal-export-"))

/** TaskResults on a fresh sandbox whose exports start a task as `exportTask` says. */
const withSandbox = (exportTask: Sandbox.TaskOptions) =>
  Effect.provide(
    TaskResults.layer().pipe(
      Layer.provideMerge(Sandbox.layerClient({ exportTask })),
      Layer.provideMerge(Layer.merge(FetchHttpClient.layer, NodeContext.layer))
    )
  )

const posts = Effect.map(
  Sandbox.Sandbox,
  (sandbox) => Effect.map(sandbox.requests, (all) => all.filter((r) => r.route === "export"))
).pipe(Effect.flatten)

const small = { files: [{ name: "a.csv", rows: 5 }, { name: "b.csv", rows: 3 }] }

describe("TaskResults.export", () => {
  it.live("starts the export, waits, downloads; records the request beside the manifest", () =>
    Effect.gen(function*() {
      const results = yield* TaskResults.TaskResults
      const sandbox = yield* Sandbox.Sandbox
      const dir = directory()
      const result = yield* results.export({ resource, body: { size: 2, fields: ["a"] }, directory: dir })
      assert.deepStrictEqual(result.files.map((f) => f.fileName), ["a.csv", "b.csv"])
      const served = yield* sandbox.files(result.taskId)
      assert.deepStrictEqual(result.files.map((f) => f.sha256), served.map((f) => f.sha256))
      const sent = yield* posts
      assert.strictEqual(sent.length, 1)
      assert.deepStrictEqual(sent[0]!.body, { size: 2, fields: ["a"] })
      const record = JSON.parse(fs.readFileSync(nodePath.join(dir, exportName), "utf8"))
      assert.strictEqual(record.taskId, result.taskId)
      assert.strictEqual(record.resource, resource)
    }).pipe(withSandbox(small)))

  it.live("a run killed after the POST, run again, posts nothing new and finishes the same task", () =>
    Effect.gen(function*() {
      const results = yield* TaskResults.TaskResults
      const dir = directory()
      const downloading = yield* Deferred.make<void>()
      const first = yield* Effect.fork(results.export({
        resource,
        body: { b: 1, a: [1, 2] },
        directory: dir,
        concurrency: 1,
        onProgress: () => Deferred.succeed(downloading, undefined).pipe(Effect.zipRight(Effect.never))
      }))
      yield* Deferred.await(downloading)
      const killed = yield* Fiber.interrupt(first)
      assert.isTrue(Exit.isInterrupted(killed))
      assert.isTrue(fs.existsSync(nodePath.join(dir, exportName)))
      const recorded = JSON.parse(fs.readFileSync(nodePath.join(dir, exportName), "utf8")).taskId

      let continued: boolean | undefined
      // The same body with its keys in another order is the same request.
      const again = yield* results.export({
        resource,
        body: { a: [1, 2], b: 1 },
        directory: dir,
        onStarted: (started) => Effect.sync(() => continued = started.continued)
      })
      assert.strictEqual(again.taskId, recorded)
      assert.isTrue(continued)
      assert.strictEqual((yield* posts).length, 1)
      assert.deepStrictEqual(again.files.map((f) => f.fileName), ["a.csv", "b.csv"])
    }).pipe(withSandbox({ ...small, startingFor: "50 millis" })))

  it.live("another body, or fresh: true, starts another export", () =>
    Effect.gen(function*() {
      const results = yield* TaskResults.TaskResults
      const dir = directory()
      const one = yield* results.export({ resource, body: { x: 1 }, directory: dir })
      const same = yield* results.export({ resource, body: { x: 1 }, directory: dir })
      assert.strictEqual(same.taskId, one.taskId)
      assert.isTrue(same.files.every((f) => f.skipped))
      const other = yield* results.export({ resource, body: { x: 2 }, directory: dir })
      assert.notStrictEqual(other.taskId, one.taskId)
      const fresh = yield* results.export({ resource, body: { x: 2 }, directory: dir, fresh: true })
      assert.notStrictEqual(fresh.taskId, other.taskId)
      assert.strictEqual((yield* posts).length, 3)
    }).pipe(withSandbox(small)))

  it.live("a recorded task no longer found (results kept one week) starts another export", () =>
    Effect.gen(function*() {
      const results = yield* TaskResults.TaskResults
      const dir = directory()
      const first = yield* results.export({ resource, directory: dir })
      const record = JSON.parse(fs.readFileSync(nodePath.join(dir, exportName), "utf8"))
      const gone = "0b0e0c9e-4f5c-4d41-9a53-5c9a1f6f3a10"
      fs.writeFileSync(nodePath.join(dir, exportName), JSON.stringify({ ...record, taskId: gone }))
      const again = yield* results.export({ resource, directory: dir })
      assert.notStrictEqual(again.taskId, gone)
      assert.notStrictEqual(again.taskId, first.taskId)
      assert.strictEqual((yield* posts).length, 2)
    }).pipe(withSandbox(small)))

  it.live("a recorded task that failed starts another export", () =>
    Effect.gen(function*() {
      const results = yield* TaskResults.TaskResults
      const dir = directory()
      const failed = yield* Effect.flip(results.export({ resource, directory: dir }))
      assert.strictEqual(failed._tag, "TaskFailed")
      const again = yield* Effect.flip(results.export({ resource, directory: dir }))
      assert.strictEqual(again._tag, "TaskFailed")
      assert.strictEqual((yield* posts).length, 2)
    }).pipe(withSandbox({ outcome: "failed" })))

  it.live("a bad resource or body is refused before anything is sent or written", () =>
    Effect.gen(function*() {
      const results = yield* TaskResults.TaskResults
      const dir = nodePath.join(directory(), "not-yet")
      const error = yield* Effect.flip(results.export({ resource: "../tasks", directory: dir }))
      assert.strictEqual(error._tag, "Invalid")
      const body = yield* Effect.flip(results.export({ resource, body: { n: Number.NaN }, directory: dir }))
      assert.strictEqual(body._tag, "Invalid")
      assert.isFalse(fs.existsSync(dir))
      assert.strictEqual((yield* posts).length, 0)
    }).pipe(withSandbox(small)))
})

describe("TaskResults export: the request's canonical JSON", () => {
  const table: ReadonlyArray<readonly [string, unknown, string | undefined]> = [
    ["keys sorted, nested", { b: 1, a: { d: [1, "x"], c: null } }, `{"a":{"c":null,"d":[1,"x"]},"b":1}`],
    ["undefined members left out", { a: undefined, b: true }, `{"b":true}`],
    ["empty", {}, "{}"],
    ["bigint refused", { a: 1n }, undefined],
    ["non-finite refused", { a: Infinity }, undefined],
    ["function refused", { a: () => 1 }, undefined]
  ]
  for (const [name, value, expected] of table) {
    it(name, () => {
      const got = Export.canonicalJson(value)
      assert.deepStrictEqual(got._tag === "Right" ? got.right : undefined, expected)
    })
  }
  it("a cycle is refused, not a crash", () => {
    const a: Record<string, unknown> = {}
    a.self = a
    assert.strictEqual(Export.canonicalJson(a)._tag, "Left")
  })
  it("plan: continue only the same request, unless fresh", () => {
    const record = Option.some({ version: 1 as const, resource, bodySha256: "h", taskId: "t" })
    assert.deepStrictEqual(Export.plan(record, { resource, bodySha256: "h" }, false), { _tag: "Continue", taskId: "t" })
    assert.deepStrictEqual(Export.plan(record, { resource, bodySha256: "h" }, true), { _tag: "Start" })
    assert.deepStrictEqual(Export.plan(record, { resource, bodySha256: "g" }, false), { _tag: "Start" })
    assert.deepStrictEqual(Export.plan(record, { resource: "r", bodySha256: "h" }, false), { _tag: "Start" })
    assert.deepStrictEqual(Export.plan(Option.none(), { resource, bodySha256: "h" }, false), { _tag: "Start" })
  })
})
