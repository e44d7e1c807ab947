/**
 * Testing your own code that uses the TextReveal client, two ways:
 *
 * 1. `TextRevealClientTest.layer` (`effect-textreveal/testing`): an in-memory client answering from data
 *    you give, per task id, and recording the calls it received. No HTTP at all: the fastest way to test
 *    your logic, typed errors included (`TextRevealClientTest.notFound()`, `.tooManyRequests()` ...).
 * 2. `Sandbox.layerClient` (`effect-textreveal/sandbox`): a TextReveal look-alike on 127.0.0.1 and the
 *    real client wired to it. Your code runs over real HTTP, with real tokens and signed file URLs, and
 *    faults on demand.
 *
 * Run with `npx vitest run examples/`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it, layer } from "@effect/vitest"
import { TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/sandbox"
import { TextRevealClientTest } from "effect-textreveal/testing"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"

// ---- The code under test: in your application it lives in your own modules.

/** A line about an export task for a status page. Failures other than these two are the caller's. */
const describeExport = (taskId: string) =>
  Effect.gen(function*() {
    const client = yield* TextRevealClient.TextRevealClient
    const urls = yield* client.getDownloadUrls(taskId)
    return `ready: ${urls.map((url) => url.fileName).join(", ")}`
  }).pipe(
    Effect.catchTags({
      NotFound: () => Effect.succeed("not found"),
      Invalid: (error) => error.taskNotCompleted ? Effect.succeed("still running") : Effect.fail(error)
    })
  )

/** The total size in bytes of a task's files, fetched from their signed URLs with a plain GET. */
const totalSize = (taskId: string) =>
  Effect.gen(function*() {
    const client = yield* TextRevealClient.TextRevealClient
    const http = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
    let total = 0
    for (const url of yield* client.getDownloadUrls(taskId)) {
      const response = yield* http.get(url.url)
      total += (yield* response.arrayBuffer).byteLength
    }
    return total
  })

// ---- 1. With the in-memory test layer

const finished = "21d9cd93-0123-4200-a775-261390082d36"
const running = "6a1e4b7c-9d2f-4e3a-8b5c-0d1f2e3a4b5c"
const finishing = "0b7c4f1e-2a3d-4c5b-9e8f-7a6b5c4d3e2f"
const throttled = "f47ac10b-58cc-4372-a567-0e02b2c3d479"

/** Built per test with `Effect.provide`: each test starts with no recorded calls. */
const TextRevealTest = TextRevealClientTest.layer({
  [finished]: [
    `https://files.example.com/exports/task=${finished}/entities.csv`,
    `https://files.example.com/exports/task=${finished}/prices.csv`
  ],
  [running]: TextRevealClientTest.taskNotCompleted(),
  // One answer per call, in order; the last one repeats.
  [finishing]: TextRevealClientTest.sequence(
    TextRevealClientTest.taskNotCompleted(),
    [`https://files.example.com/exports/task=${finishing}/entities.csv`]
  ),
  // What the client gives once a rate limit outlasts its retries.
  [throttled]: TextRevealClientTest.tooManyRequests({ retryAfter: "30 seconds" })
})

/** The calls the in-memory client received. */
const calls = Effect.flatMap(
  TextRevealClientTest.TextRevealClientTest,
  (recorder) => Effect.map(recorder.calls, (calls) => calls.map((call) => `${call.method} ${call.taskId}`))
)

describe("describeExport, with the in-memory client", () => {
  it.effect("a finished task: its files, asked once", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* describeExport(finished), "ready: entities.csv, prices.csv")
      assert.deepStrictEqual(yield* calls, [`getDownloadUrls ${finished}`])
    }).pipe(Effect.provide(TextRevealTest)))

  it.effect("a task still running, then finished", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* describeExport(running), "still running")
      assert.strictEqual(yield* describeExport(finishing), "still running")
      assert.strictEqual(yield* describeExport(finishing), "ready: entities.csv")
    }).pipe(Effect.provide(TextRevealTest)))

  it.effect("a task the API does not know (any id not given to the layer)", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* describeExport("5d6c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"), "not found")
    }).pipe(Effect.provide(TextRevealTest)))

  it.effect("a rate limit reaches the caller as TooManyRequests, with the server's Retry-After", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(describeExport(throttled))
      assert.strictEqual(error._tag, "TooManyRequests")
      if (error._tag === "TooManyRequests") assert.deepStrictEqual(error.retryAfter, Duration.seconds(30))
    }).pipe(Effect.provide(TextRevealTest)))

  it.effect("a task id that is not a UUID is refused as the real client does: Invalid", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(describeExport("latest"))
      assert.strictEqual(error._tag, "Invalid")
    }).pipe(Effect.provide(TextRevealTest)))
})

// ---- 2. With the sandbox: the real client over real HTTP

// One sandbox, and the real client wired to it, for the tests of this block; each test makes its own
// task. Time is `TestClock`'s: tasks and tokens follow it, and so would the client's waits between retries.
layer(Sandbox.layerClient().pipe(Layer.provideMerge(FetchHttpClient.layer)))(
  "describeExport and totalSize, against the sandbox",
  (it) => {
    it.effect("a finished task: its files", () =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const taskId = yield* sandbox.createTask({ files: [{ name: "entities.csv" }, { name: "prices.csv" }] })
        assert.strictEqual(yield* describeExport(taskId), "ready: entities.csv, prices.csv")
      }))

    it.effect("a task still running, then finished a minute later", () =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const taskId = yield* sandbox.createTask({ runningFor: "1 minute", files: [{ name: "entities.csv" }] })
        assert.strictEqual(yield* describeExport(taskId), "still running")
        yield* TestClock.adjust("1 minute")
        assert.strictEqual(yield* describeExport(taskId), "ready: entities.csv")
      }))

    it.effect("a task the sandbox does not know", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* describeExport("5d6c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"), "not found")
      }))

    it.effect("a rate limit beyond what the client waits for reaches the caller as TooManyRequests", () =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const taskId = yield* sandbox.createTask()
        yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({ retryAfter: 3600 }))
        const error = yield* Effect.flip(describeExport(taskId))
        assert.strictEqual(error._tag, "TooManyRequests")
      }))

    it.effect("adds up the bytes of every file, fetched without the API token", () =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const taskId = yield* sandbox.createTask({ files: [{ rows: 20 }, { rows: 30 }] })
        const files = yield* sandbox.files(taskId)
        assert.strictEqual(yield* totalSize(taskId), files[0]!.size + files[1]!.size)
        const served = (yield* sandbox.requests).filter((r) => r.route === "file" && r.url.includes(taskId))
        assert.deepStrictEqual(served.map((r) => [r.status, r.authorization]), [[200, false], [200, false]])
      }))
  }
)
