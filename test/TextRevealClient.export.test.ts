import { assert, describe, it } from "@effect/vitest"
import { TextRevealClient, TextRevealError } from "effect-textreveal"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as ExportSlot from "../src/internal/exportSlot.js"
import {
  apiError,
  failureOf,
  type FakeApi,
  fakeApi,
  json,
  runFor,
  text,
  token,
  tooMany,
  transport
} from "./fixtures/fakeApi.js"
import { clientLayer } from "./fixtures/fakeApi.js"

const exportedId = "21d9cd93-0123-4200-a775-261390082d36"
const runningId = "0b0e0c9e-4f5c-4d41-9a53-5c9a1f6f3a10"
const resource = "universes/7d1e2f3a-0000-4000-8000-000000000001/entities"

const withClient = <A, E>(api: FakeApi, f: (client: TextRevealClient.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(TextRevealClient.TextRevealClient, f).pipe(Effect.provide(clientLayer(api)))

const bodyOf = (api: FakeApi, n: number): unknown => {
  const body = api.requests[n]!.request.body
  assert.strictEqual(body._tag, "Uint8Array")
  return JSON.parse(new TextDecoder().decode((body as { readonly body: Uint8Array }).body))
}

describe("TextRevealClient.startExport: the request", () => {
  it.effect("POST /v3/<resource>/export with the body as JSON, the token and Accept; gives the task id", () =>
    Effect.gen(function*() {
      const api = fakeApi(json(200, { task_id: exportedId.toUpperCase() }))
      const id = yield* withClient(api, (c) => c.startExport(resource, { fields: ["name"], size: 3 }))
      assert.strictEqual(id, exportedId)
      assert.strictEqual(api.requests.length, 1)
      const [{ request, url }] = api.requests as [(typeof api.requests)[0]]
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(url, `https://api.textreveal.com/v3/${resource}/export`)
      assert.strictEqual(request.headers["authorization"], `Bearer ${token}`)
      assert.strictEqual(request.headers["accept"], "application/json")
      assert.strictEqual(request.headers["content-type"], "application/json")
      assert.deepStrictEqual(bodyOf(api, 0), { fields: ["name"], size: 3 })
    }))

  it.effect("no body is {}", () =>
    Effect.gen(function*() {
      const api = fakeApi(json(200, { task_id: exportedId }))
      yield* withClient(api, (c) => c.startExport(resource))
      assert.deepStrictEqual(bodyOf(api, 0), {})
    }))

  it.effect("an answer without a task id is a ResponseError (Decode)", () =>
    Effect.gen(function*() {
      const api = fakeApi(json(200, { task: exportedId }))
      const error = yield* Effect.flip(withClient(api, (c) => c.startExport(resource)))
      assert.strictEqual(error._tag, "ResponseError")
    }))

  it.effect("a transport failure after the request was sent is not retried (the export may have started)", () =>
    Effect.gen(function*() {
      const api = fakeApi(transport, json(200, { task_id: exportedId }))
      const error = failureOf(yield* runFor(withClient(api, (c) => c.startExport(resource))))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(api.requests.length, 1)
    }))

  it.effect("a timeout is not retried either", () =>
    Effect.gen(function*() {
      const api = fakeApi({ _tag: "Hang" }, json(200, { task_id: exportedId }))
      const error = failureOf(
        yield* runFor(
          Effect.flatMap(TextRevealClient.TextRevealClient, (c) => c.startExport(resource)).pipe(
            Effect.provide(clientLayer(api, { timeout: "5 seconds" }))
          )
        )
      )
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(api.requests.length, 1)
    }))

  it.effect("a 5xx answer is retried", () =>
    Effect.gen(function*() {
      const api = fakeApi(text(503, ""), json(200, { task_id: exportedId }))
      const exit = yield* runFor(withClient(api, (c) => c.startExport(resource)))
      assert.isTrue(Exit.isSuccess(exit) && exit.value === exportedId)
      assert.strictEqual(api.requests.length, 2)
    }))

  it.effect("errors name startExport; counted under the endpoint export", () =>
    Effect.gen(function*() {
      // Counters are global (other tests count too): the call must add one.
      const counted = Effect.map(Metric.snapshot, (pairs) =>
        pairs.reduce(
          (sum, pair) =>
            pair.metricKey.name === "textreveal_requests_total" &&
              pair.metricKey.tags.some((tag) => tag.key === "endpoint" && tag.value === "export") &&
              MetricState.isCounterState(pair.metricState)
              ? sum + Number(pair.metricState.count)
              : sum,
          0
        ))
      const before = yield* counted
      const api = fakeApi(apiError(404, "not_found", "[record] not found."))
      const error = yield* Effect.flip(withClient(api, (c) => c.startExport(resource)))
      assert.strictEqual(error._tag, "NotFound")
      if (error._tag !== "NotFound") return
      assert.strictEqual(error.method, "startExport")
      assert.strictEqual((yield* counted) - before, 1)
    }))
})

describe("TextRevealClient.startExport: what is refused before anything is sent", () => {
  const bad: ReadonlyArray<readonly [string, string]> = [
    ["empty", ""],
    ["leading slash", "/universes/u1/entities"],
    ["trailing slash", "universes/u1/entities/"],
    ["empty segment", "universes//entities"],
    ["dot segment", "universes/./entities"],
    ["dot-dot segment", "universes/../tasks"],
    ["query", "universes/u1/entities?x=1"],
    ["fragment", "universes/u1#x"],
    ["space", "universes/u 1"],
    ["encoded slash", "universes/u%2F1"],
    ["non-ASCII", "universés/u1"]
  ]
  for (const [name, value] of bad) {
    it.effect(`resource: ${name}`, () =>
      Effect.gen(function*() {
        const api = fakeApi(json(200, { task_id: exportedId }))
        const error = yield* Effect.flip(withClient(api, (c) => c.startExport(value)))
        assert.strictEqual(error._tag, "Invalid")
        if (error._tag !== "Invalid") return
        assert.strictEqual(error.errors[0]?.field, "resource")
        assert.strictEqual(error.method, "startExport")
        assert.strictEqual(api.requests.length, 0)
      }))
  }

  it.effect("accepted: letters, digits, _, -, . (not alone)", () =>
    Effect.gen(function*() {
      const api = fakeApi(json(200, { task_id: exportedId }))
      yield* withClient(api, (c) => c.startExport("a_b-c.d/E9/.hidden/x.."))
      assert.strictEqual(api.requests[0]!.url, "https://api.textreveal.com/v3/a_b-c.d/E9/.hidden/x../export")
    }))

  it.effect("a body JSON cannot hold is Invalid on body", () =>
    Effect.gen(function*() {
      const api = fakeApi(json(200, { task_id: exportedId }))
      const error = yield* Effect.flip(withClient(api, (c) => c.startExport(resource, { n: 1n })))
      assert.strictEqual(error._tag, "Invalid")
      if (error._tag !== "Invalid") return
      assert.strictEqual(error.errors[0]?.field, "body")
      assert.strictEqual(api.requests.length, 0)
    }))
})

describe("TextRevealClient.startExport: the export slot", () => {
  const listing = (status: string) =>
    json(200, {
      data: [{ id: runningId, status, type: "export" }],
      size: 1,
      has_next: false,
      count: 1,
      search_after: null
    })

  it.effect("waitForSlot false: the 429 at once, exportInProgress, one request", () =>
    Effect.gen(function*() {
      const api = fakeApi(tooMany(), json(200, { task_id: exportedId }))
      const error = yield* Effect.flip(withClient(api, (c) => c.startExport(resource, {}, { waitForSlot: false })))
      assert.strictEqual(error._tag, "TooManyRequests")
      if (error._tag !== "TooManyRequests") return
      assert.isTrue(error.exportInProgress)
      assert.isUndefined(error.runningTaskId)
      assert.strictEqual(api.requests.length, 1)
    }))

  it.effect("finds the running export, waits for it to end (failed counts), posts again", () =>
    Effect.gen(function*() {
      const api = fakeApi(
        tooMany(),
        listing("running"),
        json(200, { status: "running" }),
        json(200, {
          status: "failed"
        }),
        json(200, { task_id: exportedId })
      )
      const exit = yield* runFor(withClient(api, (c) => c.startExport(resource)), "10 minutes")
      assert.isTrue(Exit.isSuccess(exit) && exit.value === exportedId)
      assert.deepStrictEqual(
        api.requests.map((r) => `${r.request.method} ${new URL(r.url).pathname}`),
        [
          `POST /v3/${resource}/export`,
          "GET /v3/tasks",
          `GET /v3/tasks/${runningId}/status`,
          `GET /v3/tasks/${runningId}/status`,
          `POST /v3/${resource}/export`
        ]
      )
      assert.strictEqual(new URL(api.requests[1]!.url).searchParams.get("order"), "created_at:desc")
    }))

  it.effect("past waitForSlot: the last 429, naming the running export", () =>
    Effect.gen(function*() {
      const api = fakeApi(tooMany(), listing("running"), json(200, { status: "running" }))
      const error = failureOf(
        yield* runFor(withClient(api, (c) => c.startExport(resource, {}, { waitForSlot: "1 minute" })), "2 minutes")
      )
      assert.strictEqual(error._tag, "TooManyRequests")
      if (error._tag !== "TooManyRequests") return
      assert.isTrue(error.exportInProgress)
      assert.strictEqual(error.runningTaskId, runningId)
      assert.instanceOf(error, TextRevealError.TooManyRequests)
    }))

  it.effect("none running: backs off as for any 429 (Retry-After honoured), then posts again", () =>
    Effect.gen(function*() {
      const api = fakeApi(tooMany("7"), listing("completed"), json(200, { task_id: exportedId }))
      const exit = yield* runFor(withClient(api, (c) => c.startExport(resource)), "1 minute")
      assert.isTrue(Exit.isSuccess(exit) && exit.value === exportedId)
      assert.isAtLeast(api.requests[2]!.at - api.requests[1]!.at, 7000)
    }))

  it.effect("a 429 on a GET keeps its meaning: retried by the client, exportInProgress false", () =>
    Effect.gen(function*() {
      const api = fakeApi(tooMany())
      const error = failureOf(
        yield* runFor(
          Effect.flatMap(TextRevealClient.TextRevealClient, (c) => c.getTaskStatus(runningId)).pipe(
            Effect.provide(clientLayer(api, { retry: { times: 1 } }))
          )
        )
      )
      assert.strictEqual(error._tag, "TooManyRequests")
      if (error._tag !== "TooManyRequests") return
      assert.isFalse(error.exportInProgress)
      assert.strictEqual(api.requests.length, 2)
    }))
})

describe("ExportSlot.decide", () => {
  const base = { waitForSlotMillis: 60_000, elapsedMillis: 0, rejections: 1, lastRunningTaskId: undefined }
  const table: ReadonlyArray<readonly [string, ExportSlot.Input, ExportSlot.Step]> = [
    ["rejected, not waiting", { ...base, waitForSlotMillis: undefined, event: { _tag: "Rejected" } }, {
      _tag: "GiveUp",
      runningTaskId: undefined
    }],
    ["rejected, time left", { ...base, event: { _tag: "Rejected" } }, { _tag: "FindRunning" }],
    ["rejected again, time out", {
      ...base,
      rejections: 2,
      elapsedMillis: 60_000,
      lastRunningTaskId: "t",
      event: { _tag: "Rejected" }
    }, {
      _tag: "GiveUp",
      runningTaskId: "t"
    }],
    ["first rejection, time already out: the running export is looked for once, to be named", {
      ...base,
      elapsedMillis: 60_000,
      event: { _tag: "Rejected" }
    }, { _tag: "FindRunning" }],
    ["found after the time ran out: given up, naming it", {
      ...base,
      elapsedMillis: 60_000,
      event: { _tag: "Searched", runningTaskId: "t", backoffMillis: undefined }
    }, { _tag: "GiveUp", runningTaskId: "t" }],
    ["rejected too often", { ...base, rejections: ExportSlot.maxRejections, event: { _tag: "Rejected" } }, {
      _tag: "GiveUp",
      runningTaskId: undefined
    }],
    [
      "found one",
      { ...base, elapsedMillis: 10_000, event: { _tag: "Searched", runningTaskId: "t", backoffMillis: undefined } },
      { _tag: "AwaitTask", taskId: "t", withinMillis: 50_000 }
    ],
    ["none, back off", { ...base, event: { _tag: "Searched", runningTaskId: undefined, backoffMillis: 900 } }, {
      _tag: "Backoff",
      delayMillis: 900
    }],
    ["none, no more 429 retries", {
      ...base,
      event: { _tag: "Searched", runningTaskId: undefined, backoffMillis: undefined }
    }, { _tag: "GiveUp", runningTaskId: undefined }],
    ["none, backoff past the bound", {
      ...base,
      elapsedMillis: 59_500,
      event: { _tag: "Searched", runningTaskId: undefined, backoffMillis: 900 }
    }, { _tag: "GiveUp", runningTaskId: undefined }],
    ["waited, ended", { ...base, event: { _tag: "Waited", runningTaskId: "t", ended: true } }, { _tag: "PostAgain" }],
    ["waited, still running", { ...base, event: { _tag: "Waited", runningTaskId: "t", ended: false } }, {
      _tag: "GiveUp",
      runningTaskId: "t"
    }]
  ]
  for (const [name, input, step] of table) {
    it(name, () => assert.deepStrictEqual(ExportSlot.decide(input), step))
  }
})
