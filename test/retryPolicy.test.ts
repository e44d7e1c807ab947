/**
 * The retry decisions and the pagination bounds as tables: pure functions of plain data, no client, no socket.
 */
import { assert, describe, it } from "@effect/vitest"
import { TextRevealError } from "effect-textreveal"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Pagination from "../src/internal/pagination.js"
import * as RetryBudget from "../src/internal/retryBudget.js"
import * as RetryPolicy from "../src/internal/retryPolicy.js"

const policy = RetryPolicy.resolve({})

const state = (overrides: Partial<RetryPolicy.State> = {}): RetryPolicy.State => ({
  ...RetryPolicy.initial,
  ...overrides
})

const rateLimited = (retryAfter?: number): RetryPolicy.Verdict => ({
  kind: "rate_limited",
  status: 429,
  retryAfter: retryAfter === undefined ? undefined : Duration.millis(retryAfter)
})
const transient: RetryPolicy.Verdict = { kind: "transient", status: 503 }
const timeout: RetryPolicy.Verdict = { kind: "transient", status: "timeout" }
const renewal: RetryPolicy.Verdict = { kind: "renewal", status: 401 }

/** The step as plain data: `"stop"`, or `[kind, delay, paid]`. */
const stepOf = (step: RetryPolicy.Step) => step._tag === "Stop" ? "stop" : [step.kind, step.delayMillis, step.paid]

describe("RetryPolicy.decide", () => {
  it.effect.each<{
    readonly name: string
    readonly state: RetryPolicy.State
    readonly verdict: RetryPolicy.Verdict | undefined
    readonly random: number
    readonly step: ReturnType<typeof stepOf>
  }>([
    { name: "a final error", state: state(), verdict: undefined, random: 0, step: "stop" },
    { name: "a first 503", state: state(), verdict: transient, random: 0, step: ["transient", 500, true] },
    {
      name: "a 503 with jitter at its top",
      state: state(),
      verdict: transient,
      random: 1,
      step: ["transient", 600, true]
    },
    {
      name: "a third 503",
      state: state({ transient: 2 }),
      verdict: transient,
      random: 0,
      step: ["transient", 2000, true]
    },
    { name: "a fourth 503", state: state({ transient: 3 }), verdict: transient, random: 0, step: "stop" },
    { name: "a timeout", state: state(), verdict: timeout, random: 0, step: ["transient", 500, true] },
    {
      name: "a 429, full jitter at 0.5",
      state: state(),
      verdict: rateLimited(),
      random: 0.5,
      step: ["rate_limited", 500, true]
    },
    {
      name: "a 429 after six, capped at 60 s",
      state: state({ rateLimited: 7 }),
      verdict: rateLimited(),
      random: 1,
      step: ["rate_limited", 60_000, true]
    },
    { name: "a ninth 429", state: state({ rateLimited: 8 }), verdict: rateLimited(), random: 0, step: "stop" },
    {
      name: "Retry-After 7 s",
      state: state(),
      verdict: rateLimited(7_000),
      random: 1,
      step: ["rate_limited", 8_400, true]
    },
    {
      name: "Retry-After 0, jittered up to 100 ms",
      state: state(),
      verdict: rateLimited(0),
      random: 1,
      step: ["rate_limited", 100, true]
    },
    { name: "Retry-After over 5 minutes", state: state(), verdict: rateLimited(300_001), random: 0, step: "stop" },
    { name: "a renewal: at once, unpaid", state: state(), verdict: renewal, random: 1, step: ["renewal", 0, false] },
    { name: "a second renewal", state: state({ renewal: 1 }), verdict: renewal, random: 0, step: "stop" },
    { name: "anything at maxAttempts", state: state({ attempts: 9 }), verdict: renewal, random: 0, step: "stop" },
    {
      name: "a wait past maxRetryTime",
      state: state({ waitedMillis: 299_000 }),
      verdict: rateLimited(2_000),
      random: 0,
      step: "stop"
    }
  ])("$name", ({ random, state, step, verdict }) =>
    Effect.sync(() => {
      assert.deepStrictEqual(stepOf(RetryPolicy.decide(policy, state, verdict, random)), step)
    }))

  it.effect("retry: false and transientRetry: false stop every kind but the renewal", () =>
    Effect.sync(() => {
      const none = RetryPolicy.resolve({ retry: false, transientRetry: false })
      assert.strictEqual(stepOf(RetryPolicy.decide(none, state(), rateLimited(0), 0)), "stop")
      assert.strictEqual(stepOf(RetryPolicy.decide(none, state(), transient, 0)), "stop")
      assert.deepStrictEqual(stepOf(RetryPolicy.decide(none, state(), renewal, 0)), ["renewal", 0, false])
    }))

  it.effect("fromTimes: one count for every kind, as the file host's options give it", () =>
    Effect.sync(() => {
      const files = RetryPolicy.fromTimes({
        times: 2,
        base: Duration.millis(100),
        cap: Duration.millis(150),
        maxRetryAfter: Duration.seconds(10)
      })
      assert.deepStrictEqual(stepOf(RetryPolicy.decide(files, state({ transient: 1 }), transient, 0)), [
        "transient",
        150,
        true
      ])
      assert.strictEqual(stepOf(RetryPolicy.decide(files, state({ attempts: 3 }), transient, 0)), "stop")
      assert.strictEqual(stepOf(RetryPolicy.decide(files, state(), rateLimited(11_000), 0)), "stop")
    }))

  it.effect("advance counts the attempt, the wait, the kind and what was paid", () =>
    Effect.sync(() => {
      const step = RetryPolicy.decide(policy, state(), transient, 0)
      assert.strictEqual(step._tag, "Retry")
      if (step._tag !== "Retry") return
      assert.deepStrictEqual(
        RetryPolicy.advance(state(), step, 5),
        state({
          attempts: 2,
          waitedMillis: 500,
          transient: 1,
          spent: 5
        })
      )
    }))
})

describe("RetryPolicy.verdictOf reads the error itself", () => {
  const message = { message: "m", reason: "r" }
  it.effect.each<
    { readonly name: string; readonly error: Parameters<typeof RetryPolicy.verdictOf>[0]; readonly kind: string }
  >([
    {
      name: "TooManyRequests",
      error: new TextRevealError.TooManyRequests({ status: 429, ...message, attempts: 1 }),
      kind: "rate_limited"
    },
    {
      name: "ServerError",
      error: new TextRevealError.ServerError({ status: 502, ...message, attempts: 1 }),
      kind: "transient"
    },
    {
      name: "Unauthorized, renewable",
      error: new TextRevealError.Unauthorized({ status: 401, ...message, renewable: true }),
      kind: "renewal"
    },
    {
      name: "Unauthorized, not renewable",
      error: new TextRevealError.Unauthorized({ status: 401, ...message }),
      kind: "final"
    },
    {
      name: "Forbidden, renewable",
      error: new TextRevealError.Forbidden({ status: 403, ...message, renewable: true }),
      kind: "renewal"
    },
    { name: "NotFound", error: new TextRevealError.NotFound({ status: 404, ...message }), kind: "final" },
    {
      name: "a transport failure",
      error: { _tag: "RequestError", reason: "Transport", cause: new Error("reset") },
      kind: "transient"
    },
    {
      name: "a timeout",
      error: { _tag: "RequestError", reason: "Transport", cause: new Cause.TimeoutException() },
      kind: "transient"
    },
    { name: "an invalid URL", error: { _tag: "RequestError", reason: "InvalidUrl" }, kind: "final" },
    { name: "a decode failure", error: { _tag: "ResponseError", reason: "Decode" }, kind: "final" }
  ])("$name: $kind", ({ error, kind }) =>
    Effect.sync(() => {
      assert.strictEqual(RetryPolicy.verdictOf(error)?.kind ?? "final", kind)
    }))

  it.effect("a request that may not be sent twice: a 5xx or a transport failure is final, a 429 is not", () =>
    Effect.sync(() => {
      const error = new TextRevealError.ServerError({ status: 503, message: "m", reason: "r", attempts: 1 })
      assert.isUndefined(RetryPolicy.verdictOf(error, false))
      assert.isUndefined(RetryPolicy.verdictOf({ _tag: "RequestError", reason: "Transport" }, false))
      const limited = new TextRevealError.TooManyRequests({ status: 429, message: "m", reason: "r", attempts: 1 })
      assert.strictEqual(RetryPolicy.verdictOf(limited, false)?.kind, "rate_limited")
    }))
})

describe("RetryPolicy.schedule", () => {
  /** The schedule of the default policy with no waits (jitter 0, no Retry-After, a zero backoff), fed verdicts. */
  const retried = <A>(effect: Effect.Effect<A, RetryPolicy.Verdict>, budget?: RetryBudget.RetryBudget) =>
    effect.pipe(
      Effect.retry(RetryPolicy.schedule<RetryPolicy.Verdict>({
        policy: RetryPolicy.resolve({ transientRetry: { base: 0 } }),
        verdictOf: (verdict) => verdict,
        budget,
        endpoint: "download"
      })),
      Effect.withRandom(Random.fixed([0]))
    )

  /** Runs `failures` through the schedule and gives the number of attempts. */
  const attemptsOf = (failures: ReadonlyArray<RetryPolicy.Verdict>, budget?: RetryBudget.RetryBudget) =>
    Effect.gen(function*() {
      let n = 0
      const failing = Effect.suspend(() => Effect.fail(failures[Math.min(n++, failures.length - 1)]!))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(retried(failing, budget))))
      return n
    })

  it.effect("without a budget, every retry the policy allows is made", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* attemptsOf([transient]), 4)
      assert.strictEqual(yield* attemptsOf([renewal, transient]), 5)
    }))

  it.effect("a budget pays for transient retries; renewals never touch it", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ capacity: 5, cost: 5 })
      assert.strictEqual(yield* attemptsOf([renewal, transient], budget), 3)
      // Spent: a second call cannot retry its 503 but still repeats after a renewal.
      assert.strictEqual(yield* attemptsOf([renewal, transient], budget), 2)
    }))

  it.effect("its output is the call's state, for the refund of a success", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ capacity: 10, cost: 5 })
      let n = 0
      const spent = yield* retried(
        Effect.suspend(() =>
          n++ < 2
            ? Effect.fail(transient)
            : Effect.map(Schedule.CurrentIterationMetadata, (meta) => (meta.output as RetryPolicy.State).spent)
        ),
        budget
      )
      assert.strictEqual(spent, 10)
    }))
})

describe("Pagination.next", () => {
  const seen = (...cursors: ReadonlyArray<string>) => new Map(cursors.map((cursor, i) => [cursor, i + 1]))
  const page = (search_after: string | null, has_next = search_after !== null) => ({ has_next, search_after })

  it.effect.each<
    {
      readonly name: string
      readonly progress: Pagination.Progress
      readonly page: ReturnType<typeof page>
      readonly next: Pagination.Next
    }
  >([
    { name: "the last page", progress: { seen: seen(), pages: 1 }, page: page(null), next: { _tag: "Last" } },
    {
      name: "has_next false with a cursor",
      progress: { seen: seen(), pages: 1 },
      page: page("A", false),
      next: { _tag: "Last" }
    },
    {
      name: "a new cursor",
      progress: { seen: seen("A"), pages: 2 },
      page: page("B"),
      next: { _tag: "Follow", cursor: "B" }
    },
    {
      name: "the cursor just given",
      progress: { seen: seen("A"), pages: 2 },
      page: page("A"),
      next: { _tag: "Repeated", page: 2, firstSeenOn: 1 }
    },
    {
      name: "A, B, A",
      progress: { seen: seen("A", "B"), pages: 3 },
      page: page("A"),
      next: { _tag: "Repeated", page: 3, firstSeenOn: 1 }
    },
    {
      name: "a new cursor at maxPages",
      progress: { seen: seen("A", "B"), pages: 3 },
      page: page("C"),
      next: { _tag: "TooManyPages", maxPages: 3 }
    }
  ])("$name", ({ next, page, progress }) =>
    Effect.sync(() => {
      assert.deepStrictEqual(Pagination.next(progress, page, 3), next)
    }))
})
