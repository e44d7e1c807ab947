import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Sandbox from "../src/sandbox/Sandbox.js"
import * as TextRevealClient from "../src/TextRevealClient.js"

const resource = "universes/42/entities"

const withSandbox = (exportTask: Sandbox.TaskOptions) =>
  Effect.provide(Sandbox.layerClient({ exportTask }).pipe(Layer.provideMerge(FetchHttpClient.layer)))

describe("Sandbox POST /v3/<resource>/export, through the client", () => {
  it.live("a second export waits for the first to end, then starts", () =>
    Effect.gen(function*() {
      const client = yield* TextRevealClient.TextRevealClient
      const sandbox = yield* Sandbox.Sandbox
      const first = yield* client.startExport(resource, { n: 1 })
      const second = yield* client.startExport(resource, { n: 2 })
      assert.notStrictEqual(second, first)
      assert.strictEqual(yield* client.getTaskStatus(first), "completed")
      const exports = (yield* sandbox.requests).filter((r) => r.route === "export")
      assert.deepStrictEqual(exports.map((r) => r.status), [200, 429, 200])
      assert.deepStrictEqual(exports.map((r) => r.body), [{ n: 1 }, { n: 2 }, { n: 2 }])
      // The running export was found by listing the tasks, newest first, and its status followed.
      const routes = (yield* sandbox.requests).map((r) => r.route)
      assert.includeMembers(routes, ["tasks", "status"])
    }).pipe(withSandbox({ runningFor: "300 millis", files: [{ rows: 1 }] })))

  it.live("waitForSlot false fails at once with exportInProgress; the task shows as an export", () =>
    Effect.gen(function*() {
      const client = yield* TextRevealClient.TextRevealClient
      const sandbox = yield* Sandbox.Sandbox
      const first = yield* client.startExport(resource)
      const error = yield* Effect.flip(client.startExport(resource, {}, { waitForSlot: false }))
      assert.strictEqual(error._tag, "TooManyRequests")
      if (error._tag !== "TooManyRequests") return
      assert.isTrue(error.exportInProgress)
      assert.strictEqual(error.message, "You have too many exports in progress. (startExport)")
      assert.strictEqual((yield* sandbox.requests).filter((r) => r.route === "export").length, 2)
      const tasks = yield* Stream.runCollect(client.listTasks())
      const [task] = [...tasks]
      assert.strictEqual(task?.id, first)
      assert.strictEqual(task?.type, "export")
      assert.strictEqual(task?.status, "running")
    }).pipe(withSandbox({ runningFor: "1 hour" })))

  it.live("past waitForSlot: the 429 names the running export", () =>
    Effect.gen(function*() {
      const client = yield* TextRevealClient.TextRevealClient
      const first = yield* client.startExport(resource)
      const fiber = yield* Effect.fork(Effect.flip(client.startExport(resource, {}, { waitForSlot: "200 millis" })))
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TooManyRequests")
      if (error._tag !== "TooManyRequests") return
      assert.strictEqual(error.runningTaskId, first)
    }).pipe(withSandbox({ runningFor: "1 hour" })))

  it.live("a body that is not a JSON object is a 400 with a field error on body; nothing starts", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const client = yield* TextRevealClient.TextRevealClient
      for (const body of ["{not json", "[1,2]", "\"text\""]) {
        const error = yield* Effect.flip(
          client.client.execute(
            HttpClientRequest.post(`/${resource}/export`).pipe(HttpClientRequest.bodyText(body, "application/json"))
          )
        )
        assert.strictEqual(error._tag, "Invalid")
        if (error._tag !== "Invalid") return
        assert.strictEqual(error.errors[0]?.field, "body")
      }
      assert.strictEqual((yield* Stream.runCollect(client.listTasks())).length, 0)
      const logged = (yield* sandbox.requests).filter((r) => r.route === "export")
      assert.isTrue(logged.every((r) => r.body === undefined && r.status === 400))
      // The log never holds the token.
      assert.notInclude(JSON.stringify(yield* sandbox.requests), "Bearer")
    }).pipe(withSandbox({})))
})
