/**
 * Testing your own code that uses the TextReveal client, two ways:
 *
 * 1. `TextRevealClientTest.layer`: an in-memory client answering from data you give, per task id, and
 *    recording the calls it received. No HTTP at all: the fastest way to test your logic.
 * 2. `Sandbox.layer`: a real TextReveal look-alike on 127.0.0.1. Your code runs with the real client, real
 *    HTTP, real tokens and real signed file URLs; faults (429s, 5xx, dropped connections ...) on demand.
 *
 * Run with `npx vitest run examples/`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it, layer } from "@effect/vitest"
import { Credentials, TextRevealClient, TextRevealError } from "effect-textreveal"
import { Sandbox, TextRevealClientTest } from "effect-textreveal/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

// ---- The code under test: in your application it lives in your own modules.

/**
 * The names of the files of an export task. A task that does not exist (or is no longer kept) has no
 * files; a rate-limited call is tried once more.
 */
const fileNames = (taskId: string) =>
  Effect.gen(function*() {
    const client = yield* TextRevealClient.TextRevealClient
    const urls = yield* client.getDownloadUrls(taskId)
    return urls.map((url) => url.fileName)
  }).pipe(
    Effect.retry({ times: 1, while: (error) => error._tag === "TooManyRequests" }),
    Effect.catchTag("NotFound", () => Effect.succeed<ReadonlyArray<string>>([]))
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

const exportTask = "21d9cd93-0123-4200-a775-261390082d36"
const deletedTask = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
const busyTask = "6a1e4b7c-9d2f-4e3a-8b5c-0d1f2e3a4b5c"
const stuckTask = "0b7c4f1e-2a3d-4c5b-9e8f-7a6b5c4d3e2f"

const tooManyRequests = new TextRevealError.TooManyRequests({
  status: 429,
  message: "You have too many exports in progress.",
  reason: "too_many_requests",
  attempts: 1
})

/** Built per test with `Effect.provide`: each test starts with no recorded calls. */
const TextRevealTest = TextRevealClientTest.layer({
  [exportTask]: [
    `https://files.example.com/exports/task=${exportTask}/entities.csv`,
    `https://files.example.com/exports/task=${exportTask}/entities-2.csv`
  ],
  [deletedTask]: new TextRevealError.NotFound({
    status: 404,
    message: "The requested task does not exist or is not visible to you.",
    reason: "not_found"
  }),
  [busyTask]: TextRevealClientTest.sequence(tooManyRequests, [
    `https://files.example.com/exports/task=${busyTask}/a.csv`
  ]),
  [stuckTask]: tooManyRequests
})

/** The calls the in-memory client received, as task ids. */
const calledWith = Effect.flatMap(
  TextRevealClientTest.TextRevealClientTest,
  (recorder) => Effect.map(recorder.calls, (calls) => calls.map((call) => `${call.method} ${call.taskId}`))
)

describe("fileNames, with the in-memory client", () => {
  it.effect("gives the names of the task's files, asking once", () =>
    Effect.gen(function*() {
      const names = yield* fileNames(exportTask)
      assert.deepStrictEqual(names, ["entities.csv", "entities-2.csv"])
      assert.deepStrictEqual(yield* calledWith, [`getDownloadUrls ${exportTask}`])
    }).pipe(Effect.provide(TextRevealTest)))

  it.effect("a task that does not exist has no files", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* fileNames(deletedTask), [])
      assert.deepStrictEqual(yield* calledWith, [`getDownloadUrls ${deletedTask}`])
    }).pipe(Effect.provide(TextRevealTest)))

  it.effect("a rate-limited call is tried once more, and succeeds", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* fileNames(busyTask), ["a.csv"])
      assert.deepStrictEqual(yield* calledWith, [`getDownloadUrls ${busyTask}`, `getDownloadUrls ${busyTask}`])
    }).pipe(Effect.provide(TextRevealTest)))

  it.effect("a rate limit that lasts reaches the caller as TooManyRequests after two calls", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fileNames(stuckTask))
      assert.strictEqual(error._tag, "TooManyRequests")
      assert.strictEqual((yield* calledWith).length, 2)
    }).pipe(Effect.provide(TextRevealTest)))

  it.effect("a task id that is not a UUID is refused as the real client does: Invalid, not retried", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fileNames("latest"))
      assert.strictEqual(error._tag, "Invalid")
      assert.deepStrictEqual(yield* calledWith, ["getDownloadUrls latest"])
    }).pipe(Effect.provide(TextRevealTest)))
})

// ---- 2. With the sandbox: the real client over real HTTP

/** The real client, wired as in production but pointed at the sandbox. */
const TextRevealSandbox = Layer.unwrapEffect(
  Effect.map(Sandbox.Sandbox, (sandbox) =>
    TextRevealClient.layer({ baseUrl: sandbox.baseUrl }).pipe(
      Layer.provide(Credentials.layerPassword({
        username: sandbox.username,
        password: sandbox.password,
        tokenUrl: sandbox.tokenUrl
      }))
    ))
).pipe(
  Layer.provideMerge(FetchHttpClient.layer),
  Layer.provideMerge(Sandbox.layer())
)

// One sandbox for the tests of this block; each test makes its own task.
layer(TextRevealSandbox)("fileNames and totalSize, against the sandbox", (it) => {
  it.effect("gives the names of the task's files", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const taskId = yield* sandbox.createTask({ files: [{ name: "entities.csv" }, { name: "prices.csv" }] })
      assert.deepStrictEqual(yield* fileNames(taskId), ["entities.csv", "prices.csv"])
    }))

  it.effect("a task that does not exist has no files", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* fileNames("0b7c4f1e-2a3d-4c5b-9e8f-000000000000"), [])
    }))

  it.effect("rides out rate limits: the sandbox answers 429 twice, the names still arrive", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const taskId = yield* sandbox.createTask({ files: [{ name: "entities.csv", rows: 5 }] })
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({ retryAfter: 0 }), { times: 2 })
      assert.deepStrictEqual(yield* fileNames(taskId), ["entities.csv"])
      const downloads = (yield* sandbox.requests).filter((r) => r.url.includes(taskId))
      assert.deepStrictEqual(downloads.map((r) => r.status), [429, 429, 200])
    }))

  it.effect("adds up the bytes of every file, fetched without the API token", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const taskId = yield* sandbox.createTask({ files: [{ rows: 0 }, { rows: 0 }] })
      const header = "entity_id,name,isin,ticker,country,sector,founded,sentiment\n"
      assert.strictEqual(yield* totalSize(taskId), 2 * header.length)
      const files = (yield* sandbox.requests).filter((r) => r.route === "file" && r.url.includes(taskId))
      assert.deepStrictEqual(files.map((r) => [r.status, r.authorization]), [[200, false], [200, false]])
    }))
})
