/**
 * The metrics a user reads with `Metric.snapshot` (their names and tags are a contract): requests by
 * endpoint and status, retries by endpoint and reason, an empty retry budget, durations, bytes of files.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Random from "effect/Random"
import { apiError, fakeApi, getDownloadUrls, ok, runFor, text, tooMany, transport } from "./fixtures/fakeApi.js"

/** The value of every counter named `name`, keyed by its tags (`k=v,k=v`). */
const counters = (name: string) =>
  Effect.map(Metric.snapshot, (pairs) => {
    const values: Record<string, number> = {}
    for (const pair of pairs) {
      if (pair.metricKey.name !== name || !MetricState.isCounterState(pair.metricState)) continue
      const tags = pair.metricKey.tags.map((tag) => `${tag.key}=${tag.value}`).sort().join(",")
      values[tags] = Number(pair.metricState.count)
    }
    return values
  })

/** How much each counter named `name` grew while `effect` ran. */
const growth = <A, E>(name: string, effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const before = yield* counters(name)
    yield* effect
    const after = yield* counters(name)
    const grown: Record<string, number> = {}
    for (const [tags, value] of Object.entries(after)) {
      const delta = value - (before[tags] ?? 0)
      if (delta !== 0) grown[tags] = delta
    }
    return grown
  })

const call = (...replies: Parameters<typeof fakeApi>) =>
  runFor(getDownloadUrls(fakeApi(...replies)).pipe(Effect.withRandom(Random.fixed([0]))))

describe("metrics", () => {
  it.effect("textreveal_requests_total counts each request by endpoint and status", () =>
    Effect.gen(function*() {
      const grown = yield* growth("textreveal_requests_total", call(tooMany("1"), text(503, ""), transport, ok()))
      assert.deepStrictEqual(grown, {
        "endpoint=download,status=429": 1,
        "endpoint=download,status=503": 1,
        "endpoint=download,status=transport": 1,
        "endpoint=download,status=200": 1
      })
    }))

  it.effect("textreveal_retries_total counts each retry by endpoint and reason", () =>
    Effect.gen(function*() {
      const grown = yield* growth("textreveal_retries_total", call(tooMany("1"), text(503, ""), transport, ok()))
      assert.deepStrictEqual(grown, {
        "endpoint=download,reason=rate_limited": 1,
        "endpoint=download,reason=transient": 2
      })
    }))

  it.effect("textreveal_retry_budget_exhausted_total counts retries refused by an empty budget", () =>
    Effect.gen(function*() {
      const grown = yield* growth(
        "textreveal_retry_budget_exhausted_total",
        runFor(getDownloadUrls(fakeApi(text(503, "")), { retryBudget: { capacity: 5, cost: 5 } }))
      )
      assert.deepStrictEqual(grown, { "": 1 })
    }))

  it.effect("a call that is not retried counts one request and no retry", () =>
    Effect.gen(function*() {
      const requests = yield* growth("textreveal_requests_total", call(apiError(404, "not_found", "no")))
      assert.deepStrictEqual(requests, { "endpoint=download,status=404": 1 })
    }))

  it.effect("textreveal_request_duration_ms records each request by endpoint", () =>
    Effect.gen(function*() {
      const count = Effect.map(Metric.snapshot, (pairs) => {
        const pair = pairs.find((p) =>
          p.metricKey.name === "textreveal_request_duration_ms" &&
          p.metricKey.tags.some((tag) => tag.key === "endpoint" && tag.value === "download")
        )
        return pair !== undefined && MetricState.isHistogramState(pair.metricState) ? pair.metricState.count : 0
      })
      const before = yield* count
      yield* call(tooMany("0"), ok())
      assert.strictEqual((yield* count) - before, 2)
    }))
})
