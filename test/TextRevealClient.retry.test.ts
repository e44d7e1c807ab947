import { assert, describe, it } from "@effect/vitest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as TestClock from "effect/TestClock"
import {
  apiError,
  arrivals,
  captureLogs,
  clientLayer,
  failureOf,
  type FakeApi,
  fakeApi,
  fakeCredentials,
  fakeHttp,
  fileUrl,
  getDownloadUrls as getDownloadUrlsJittered,
  hang,
  json,
  ok,
  type Reply,
  runFor,
  taskId,
  text,
  tooMany,
  transport
} from "./fixtures/fakeApi.js"
import { after, issued as issuedToken, passwordLayer, successOf } from "./fixtures/tokenEndpoint.js"

/** The call with its backoff jitter fixed: `Random.next` yields `r` (clamped to [0, 1]) every time. */
const callWithJitter = <E = never>(
  api: FakeApi,
  r: number,
  options: TextRevealClient.Options = {},
  credentials?: Layer.Layer<Credentials.Credentials, E>
) => getDownloadUrlsJittered(api, options, credentials).pipe(Effect.withRandom(Random.fixed([r])))

/** The call with no jitter (`Random` fixed at 0), so that waits are exact. */
const getDownloadUrls = <E = never>(
  api: FakeApi,
  options: TextRevealClient.Options = {},
  credentials?: Layer.Layer<Credentials.Credentials, E>
) => callWithJitter(api, 0, options, credentials)

/** Starts the call in a fiber, to be driven by `TestClock.adjust`. */
const start = (api: FakeApi, options: TextRevealClient.Options = {}) => Effect.fork(getDownloadUrls(api, options))

const millis = (duration: Duration.Duration | undefined) =>
  duration === undefined ? undefined : Duration.toMillis(duration)

/**
 * For the `it.live` storms, which keep the default logger: their thousands of retry lines, asserted nowhere,
 * would only load the test runner, which prints each.
 */
const quietly = Effect.provide(Logger.remove(Logger.defaultLogger))

describe("retries", () => {
  describe("429 with Retry-After", () => {
    it.effect("delta-seconds: waits exactly that long (not retried at 6.999 s, retried at 7 s)", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("7"), ok(fileUrl("a.csv")))
        const fiber = yield* start(api)
        yield* TestClock.adjust("6999 millis")
        assert.strictEqual(api.requests.length, 1)
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(api.requests.length, 2)
        const [url] = yield* Fiber.join(fiber)
        assert.deepStrictEqual(arrivals(api), [0, 7_000])
        // The URL expires 5 minutes after the successful response, not after the first attempt.
        assert.isTrue(url !== undefined && DateTime.toEpochMillis(url.expiresAt) === 7_000 + 5 * 60_000)
      }))

    it.effect("HTTP-date: waits until that instant, by TestClock", () =>
      Effect.gen(function*() {
        const now = Date.UTC(2025, 5, 1, 8, 0, 0)
        yield* TestClock.setTime(now)
        const api = fakeApi(tooMany(new Date(now + 30_000).toUTCString()), ok())
        const fiber = yield* start(api)
        yield* TestClock.adjust("29999 millis")
        assert.strictEqual(api.requests.length, 1)
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(api.requests.length, 2)
        yield* Fiber.join(fiber)
        assert.deepStrictEqual(arrivals(api), [0, 30_000])
      }))

    it.effect("HTTP-date in the past: retried at once", () =>
      Effect.gen(function*() {
        const now = Date.UTC(2025, 5, 1, 8, 0, 0)
        yield* TestClock.setTime(now)
        const api = fakeApi(tooMany(new Date(now - 60_000).toUTCString()), ok())
        yield* getDownloadUrls(api)
        assert.deepStrictEqual(arrivals(api), [0, 0])
      }))

    it.effect("an unreadable Retry-After (\"1.5\", \"soon 5\") is ignored: the jittered backoff applies", () =>
      Effect.gen(function*() {
        const now = Date.UTC(2025, 5, 1, 8, 0, 0)
        yield* TestClock.setTime(now)
        const api = fakeApi(tooMany("1.5"), tooMany("soon 5"), ok())
        const exit = yield* runFor(callWithJitter(api, 1))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        // Backoff with jitter fixed at its upper bound: 1 s, then 2 s.
        assert.deepStrictEqual(arrivals(api), [0, 1_000, 3_000])
      }))

    it.effect("longer than maxRetryAfter (default 5 minutes): fails at once, carrying it", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("301"), ok())
        const error = failureOf(yield* runFor(getDownloadUrls(api)))
        assert.strictEqual(api.requests.length, 1)
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(millis(error.retryAfter), 301_000)
        assert.strictEqual(error.attempts, 1)
      }))

    it.effect("exactly maxRetryAfter: waits for it", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("300"), ok())
        const exit = yield* runFor(getDownloadUrls(api))
        assert.isTrue(Exit.isSuccess(exit))
        assert.deepStrictEqual(arrivals(api), [0, 300_000])
      }))

    it.effect("an HTTP-date beyond maxRetryAfter fails at once", () =>
      Effect.gen(function*() {
        const now = Date.UTC(2025, 5, 1, 8, 0, 0)
        yield* TestClock.setTime(now)
        const api = fakeApi(tooMany(new Date(now + 10 * 60_000).toUTCString()), ok())
        const error = failureOf(yield* runFor(getDownloadUrls(api)))
        assert.strictEqual(api.requests.length, 1)
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(millis(error.retryAfter), 10 * 60_000)
      }))

    it.effect("retry.maxRetryAfter is honoured", () =>
      Effect.gen(function*() {
        const options = { retry: { maxRetryAfter: "10 seconds" } } as const
        const refused = fakeApi(tooMany("11"), ok())
        const error = failureOf(yield* runFor(getDownloadUrls(refused, options)))
        assert.strictEqual(error._tag, "TooManyRequests")
        assert.strictEqual(refused.requests.length, 1)

        const waited = fakeApi(tooMany("10"), ok())
        assert.isTrue(Exit.isSuccess(yield* runFor(getDownloadUrls(waited, options))))
        assert.deepStrictEqual(arrivals(waited), [0, 10_000])
      }))
  })

  describe("429 without Retry-After: full-jitter backoff", () => {
    it.effect("bounds double from 1 s up to 60 s; 8 retries by default, then the last 429 with attempts 9", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany())
        // Jitter at its upper bound: each wait is the whole bound 1, 2, 4, 8, 16, 32, 60, 60 s.
        const error = failureOf(yield* runFor(callWithJitter(api, 1)))
        assert.deepStrictEqual(arrivals(api), [0, 1_000, 3_000, 7_000, 15_000, 31_000, 63_000, 123_000, 183_000])
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(error.attempts, 9)
        assert.isUndefined(error.retryAfter)
        assert.strictEqual(error.message, `You have too many exports in progress. (getDownloadUrls ${taskId})`)
      }))

    it.effect("with jitter at 0 nothing waits", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany())
        const error = failureOf(yield* runFor(callWithJitter(api, 0)))
        assert.deepStrictEqual(arrivals(api), [0, 0, 0, 0, 0, 0, 0, 0, 0])
        assert.isTrue(error._tag === "TooManyRequests" && error.attempts === 9)
      }))

    it.effect("each wait is drawn uniformly below its bound (jitter 0.5 waits half of it)", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany(), tooMany(), tooMany(), ok())
        const fiber = yield* Effect.fork(callWithJitter(api, 0.5))
        yield* TestClock.adjust("499 millis")
        assert.strictEqual(api.requests.length, 1)
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(api.requests.length, 2)
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(fiber)
        assert.deepStrictEqual(arrivals(api), [0, 500, 1_500, 3_500])
      }))

    it.effect("retry.times, retry.base and retry.cap are honoured", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany())
        const error = failureOf(
          yield* runFor(callWithJitter(api, 1, { retry: { times: 3, base: "100 millis", cap: "250 millis" } }))
        )
        assert.deepStrictEqual(arrivals(api), [0, 100, 300, 550])
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(error.attempts, 4)
      }))

    it.effect("retry: false disables them, even with a short Retry-After", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("1"), ok())
        const error = failureOf(yield* runFor(getDownloadUrls(api, { retry: false })))
        assert.strictEqual(api.requests.length, 1)
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(error.attempts, 1)
        assert.strictEqual(millis(error.retryAfter), 1_000)
      }))

    it.effect("recovers: 429 then 200 succeeds", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany(), tooMany("2"), ok(fileUrl("a.csv")))
        const exit = yield* runFor(callWithJitter(api, 1))
        assert.isTrue(Exit.isSuccess(exit) && exit.value.length === 1, String(exit))
        // Jitter at its upper bound: the full 1 s bound, then Retry-After 2 s plus 20%.
        assert.deepStrictEqual(arrivals(api), [0, 1_000, 3_400])
      }))
  })

  describe("5xx and transport failures", () => {
    it.effect("500: 3 retries after 500 ms, 1 s, 2 s, then ServerError with attempts 4", () =>
      Effect.gen(function*() {
        const api = fakeApi(apiError(500, "internal", "Internal error"))
        const fiber = yield* start(api)
        yield* TestClock.adjust("499 millis")
        assert.strictEqual(api.requests.length, 1)
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(api.requests.length, 2)
        yield* TestClock.adjust("1 minute")
        const error = failureOf(yield* Fiber.await(fiber))
        assert.deepStrictEqual(arrivals(api), [0, 500, 1_500, 3_500])
        assert.strictEqual(error._tag, "ServerError")
        if (error._tag !== "ServerError") return
        assert.strictEqual(error.status, 500)
        assert.strictEqual(error.attempts, 4)
      }))

    it.effect.each([502, 503, 504])("%d is retried the same way", (status) =>
      Effect.gen(function*() {
        const api = fakeApi(text(status, "<html><h1>Gateway</h1></html>"))
        const error = failureOf(yield* runFor(getDownloadUrls(api)))
        assert.deepStrictEqual(arrivals(api), [0, 500, 1_500, 3_500])
        assert.strictEqual(error._tag, "ServerError")
        if (error._tag !== "ServerError") return
        assert.strictEqual(error.status, status)
        assert.strictEqual(error.attempts, 4)
      }))

    it.effect("a transport failure: 3 retries, then RequestError", () =>
      Effect.gen(function*() {
        const api = fakeApi(transport)
        const error = failureOf(yield* runFor(getDownloadUrls(api)))
        assert.deepStrictEqual(arrivals(api), [0, 500, 1_500, 3_500])
        assert.strictEqual(error._tag, "RequestError")
        if (error._tag !== "RequestError") return
        assert.strictEqual(error.reason, "Transport")
      }))

    it.effect("recovers: 503, transport, then 200 succeeds", () =>
      Effect.gen(function*() {
        const api = fakeApi(text(503, ""), transport, ok(fileUrl("a.csv")))
        const exit = yield* runFor(getDownloadUrls(api))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.deepStrictEqual(arrivals(api), [0, 500, 1_500])
      }))

    it.effect.each<{ readonly name: string; readonly reply: Reply }>([
      { name: "503", reply: text(503, "") },
      { name: "transport", reply: transport }
    ])("transientRetry: false disables them ($name)", ({ reply }) =>
      Effect.gen(function*() {
        const api = fakeApi(reply, ok())
        const exit = yield* runFor(getDownloadUrls(api, { transientRetry: false }))
        assert.isTrue(Exit.isFailure(exit))
        assert.strictEqual(api.requests.length, 1)
      }))

    it.effect("transientRetry.times and transientRetry.base are honoured", () =>
      Effect.gen(function*() {
        const api = fakeApi(text(500, ""))
        const error = failureOf(
          yield* runFor(getDownloadUrls(api, { transientRetry: { times: 2, base: "100 millis" } }))
        )
        assert.deepStrictEqual(arrivals(api), [0, 100, 300])
        assert.isTrue(error._tag === "ServerError" && error.attempts === 3)
      }))

    it.effect("rate-limit and transient budgets are separate", () =>
      Effect.gen(function*() {
        const api = fakeApi(text(503, ""), tooMany("1"), text(503, ""), tooMany("1"), ok())
        const exit = yield* runFor(getDownloadUrls(api, { retry: { times: 2 }, transientRetry: { times: 2 } }))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(api.requests.length, 5)
      }))
  })

  describe("never retried", () => {
    it.effect.each<{ readonly name: string; readonly reply: Reply }>([
      { name: "400", reply: apiError(400, "invalid", "bad") },
      { name: "401", reply: apiError(401, "unauthorized", "invalid username or API key") },
      { name: "403", reply: apiError(403, "forbidden", "Not authorized to access this resource") },
      { name: "404", reply: apiError(404, "not_found", "[record] not found.") },
      { name: "418", reply: apiError(418, "teapot", "I'm a teapot") },
      { name: "a relative URL in a 200", reply: ok("/a.csv") },
      { name: "a non-JSON 200", reply: text(200, "<html></html>") },
      { name: "an object in a 200", reply: json(200, { urls: [] }) }
    ])("$name: exactly one request", ({ reply }) =>
      Effect.gen(function*() {
        const api = fakeApi(reply, ok())
        const exit = yield* runFor(getDownloadUrls(api))
        assert.isTrue(Exit.isFailure(exit))
        assert.strictEqual(api.requests.length, 1)
      }))
  })

  describe("logging", () => {
    it.effect("each retry is logged with attempt, delay and status", () =>
      Effect.gen(function*() {
        const capture = captureLogs()
        const api = fakeApi(text(500, ""), tooMany("7"), transport, ok())
        const exit = yield* runFor(getDownloadUrls(api).pipe(Effect.provide(capture.layer)))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        const retries = capture.logs.filter((log) => log.level === "WARN")
        assert.deepStrictEqual(
          retries.map((log) => log.annotations),
          [
            {
              attempt: 1,
              status: 500,
              reason: "transient",
              delay: "500ms",
              failure: `TextReveal answered 500 with an empty body (getDownloadUrls ${taskId})`
            },
            {
              attempt: 2,
              status: 429,
              reason: "rate_limited",
              delay: "7s",
              failure: `You have too many exports in progress. (getDownloadUrls ${taskId})`
            },
            {
              attempt: 3,
              status: "transport",
              reason: "transient",
              delay: "1s",
              failure:
                "Transport: api.textreveal.com: ECONNRESET read ECONNRESET (GET https://api.textreveal.com/v3/tasks/f47ac10b-58cc-4372-a567-0e02b2c3d479/download)"
            }
          ]
        )
      }))

    it.effect("the logged attempt is the request that failed, counting a repeat after a token renewal", () =>
      Effect.gen(function*() {
        const capture = captureLogs()
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(apiError(401, "unauthorized", "expired"), tooMany("1"), ok())
        const exit = yield* runFor(getDownloadUrls(api, {}, credentials.layer).pipe(Effect.provide(capture.layer)))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(api.requests.length, 3)
        // The 429 answered the 2nd request (its TooManyRequests would say attempts: 2).
        assert.deepStrictEqual(
          capture.logs.filter((log) => log.level === "WARN").map(({ annotations }) => [
            annotations.attempt,
            annotations.status,
            annotations.reason,
            annotations.delay
          ]),
          [[1, 401, "renewal", "0"], [2, 429, "rate_limited", "1s"]]
        )
      }))

    it.effect("nothing is logged as a retry when the call is not retried", () =>
      Effect.gen(function*() {
        const capture = captureLogs()
        const api = fakeApi(apiError(404, "not_found", "[record] not found."))
        yield* runFor(getDownloadUrls(api).pipe(Effect.provide(capture.layer)))
        assert.deepStrictEqual(capture.logs.filter((log) => "attempt" in log.annotations), [])
      }))
  })

  describe("bounded per call", () => {
    it.effect("one cap on requests per call across kinds: a 401, three 503s, then 429s make 9 requests", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(
          apiError(401, "unauthorized", "expired"),
          text(503, ""),
          text(503, ""),
          text(503, ""),
          tooMany("0")
        )
        const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
        assert.strictEqual(api.requests.length, 9)
        assert.isTrue(error._tag === "TooManyRequests" && error.attempts === 9, String(error))
      }))

    it.effect("maxAttempts is honoured", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("0"))
        const error = failureOf(yield* runFor(getDownloadUrls(api, { maxAttempts: 3 })))
        assert.strictEqual(api.requests.length, 3)
        assert.isTrue(error._tag === "TooManyRequests" && error.attempts === 3)
      }))

    it.effect("the time spent waiting is capped (5 minutes): Retry-After 300 is waited once, then the call ends", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("300"))
        const error = failureOf(yield* runFor(getDownloadUrls(api)))
        assert.deepStrictEqual(arrivals(api), [0, 300_000])
        assert.isTrue(error._tag === "TooManyRequests" && millis(error.retryAfter) === 300_000)
      }))

    it.effect("maxRetryTime is honoured", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("4"))
        yield* runFor(getDownloadUrls(api, { maxRetryTime: "10 seconds" }))
        assert.deepStrictEqual(arrivals(api), [0, 4_000, 8_000])
      }))
  })

  describe("jitter on every wait", () => {
    it.effect("Retry-After gets up to 20% on top (at the upper bound: 1 s → 1.2 s), never less than asked", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("1"), ok())
        yield* runFor(callWithJitter(api, 1))
        assert.deepStrictEqual(arrivals(api), [0, 1_200])
      }))

    it.effect("transient backoff gets up to 20% on top", () =>
      Effect.gen(function*() {
        const api = fakeApi(text(503, ""), text(503, ""), ok())
        yield* runFor(callWithJitter(api, 1))
        assert.deepStrictEqual(arrivals(api), [0, 600, 1_800])
      }))

    it.effect("50 callers told Retry-After: 1 come back spread over more than 100 ms, none before 1 s", () =>
      Effect.gen(function*() {
        const api = fakeHttp((_request, n) => Effect.succeed(n <= 50 ? tooMany("1") : ok()))
        const call = Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId))
        yield* runFor(
          Effect.all(Array.from({ length: 50 }, () => call), { concurrency: "unbounded" }).pipe(
            Effect.provide(clientLayer(api)),
            Effect.withRandom(Random.make("jitter"))
          )
        )
        const retries = api.requests.slice(50).map((received) => received.at)
        assert.strictEqual(retries.length, 50)
        assert.isAtLeast(Math.min(...retries), 1_000)
        assert.isAtLeast(Math.max(...retries) - Math.min(...retries), 100)
      }))
  })

  describe("a retry budget shared by every call of a client", () => {
    /**
     * `callers` concurrent calls of one client against a server that always fails, with no waits between
     * attempts (`Retry-After: 0`, a zero backoff and no jitter), so that the budget alone bounds the load.
     */
    const storm = (reply: Reply, options: TextRevealClient.Options = {}, callers = 300) =>
      Effect.gen(function*() {
        const api = fakeApi(reply)
        const call = Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId))
        const exits = yield* Effect.all(Array.from({ length: callers }, () => Effect.exit(call)), {
          concurrency: "unbounded"
        }).pipe(
          Effect.provide(clientLayer(api, { transientRetry: { base: "0 millis" }, ...options })),
          Effect.withRandom(Random.fixed([0])),
          quietly
        )
        assert.isTrue(exits.every(Exit.isFailure))
        return api.requests.length
      })

    it.live("300 callers on a 429 storm make 400 requests, not 2700 (500 tokens, 5 per retry)", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* storm(tooMany("0")), 400)
      }))

    it.live("300 callers on a 503 storm make 400 requests, not 1200", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* storm(text(503, "")), 400)
      }))

    it.live("retryBudget: false lets every call retry by its own policy", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* storm(text(503, ""), { retryBudget: false }, 100), 400)
      }))

    it.effect("successes refill it: a retry that succeeds pays its tokens back", () =>
      Effect.gen(function*() {
        const api = fakeApi(text(503, ""), ok(), text(503, ""), ok())
        const call = Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId))
        // Room for exactly one retry: without the refund the second call could not retry.
        const exit = yield* runFor(
          Effect.zip(call, call).pipe(Effect.provide(clientLayer(api, { retryBudget: { capacity: 5, cost: 5 } })))
        )
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(api.requests.length, 4)
      }))

    it.effect("an exhausted budget is logged at ERROR", () =>
      Effect.gen(function*() {
        const capture = captureLogs()
        const api = fakeApi(text(503, ""))
        yield* runFor(
          getDownloadUrls(api, { retryBudget: { capacity: 5, cost: 5 } }).pipe(Effect.provide(capture.layer))
        )
        assert.strictEqual(api.requests.length, 2)
        assert.deepStrictEqual(
          capture.logs.filter((log) => log.level === "ERROR").map((log) => String(log.message)),
          ["TextReveal retry budget exhausted: not retrying"]
        )
      }))
  })

  describe("a renewal is not a retry: the repeat after it is never refused by the budget nor spends it", () => {
    it.effect("with an empty budget, a rejected token is still renewed and the call repeated", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(apiError(401, "unauthorized", "expired"), ok())
        const exit = yield* runFor(getDownloadUrls(api, { retryBudget: { capacity: 0 } }, credentials.layer))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.deepStrictEqual(credentials.invalidated, ["tok-1"])
        assert.strictEqual(api.requests.length, 2)
      }))

    it.effect("the repeat spends nothing: a budget with room for one retry still pays for a 503 after it", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(apiError(401, "unauthorized", "expired"), text(503, ""), ok())
        const exit = yield* runFor(
          getDownloadUrls(api, { retryBudget: { capacity: 5, cost: 5 } }, credentials.layer)
        )
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.strictEqual(api.requests.length, 3)
      }))

    it.effect("a token endpoint that keeps failing is retried by its own schedule only, not again by the call's", () =>
      Effect.gen(function*() {
        const http = fakeHttp((request) =>
          Effect.succeed(request.url === Credentials.defaultTokenUrl ? text(503, "") : ok(fileUrl("a.csv")))
        )
        const error = failureOf(yield* runFor(getDownloadUrls(http, {}, passwordLayer(http))))
        assert.strictEqual(error._tag, "ServerError")
        // 1 + 3 transient retries of the token request; no API request, no second round of token requests.
        assert.strictEqual(http.requests.length, 4)
      }))

    /**
     * The documented token endpoint issuing `tok-<n>` for its n-th request, each taking `latency`, beside an API
     * that accepts only the last token issued, until `revoke` rejects it too.
     */
    const revokingPeer = (latency: Duration.DurationInput) => {
      let issued = 0
      let revoked = 0
      const http = fakeHttp((request) => {
        if (request.url === Credentials.defaultTokenUrl) {
          issued++
          return Effect.succeed(after(latency, issuedToken(issued)))
        }
        const accepted = issued > revoked ? `Bearer tok-${issued}` : undefined
        return Effect.succeed(
          request.headers["authorization"] === accepted
            ? ok(fileUrl("a.csv"))
            : apiError(401, "unauthorized", "expired")
        )
      })
      return {
        http,
        tokenRequests: () => http.requests.filter((r) => r.url === Credentials.defaultTokenUrl).length,
        revoke: Effect.sync(() => {
          revoked = issued
        })
      }
    }

    /**
     * Real time: hundreds of calls each waiting on `TestClock` would cost the clock a wake-up per pending sleep.
     * The token endpoint is slow enough that every caller is rejected before the new token comes.
     */
    const slowToken = "300 millis"
    const storm = 60_000

    /** `callers` concurrent calls of one client (default options: the budget holds 100 retries), their exits. */
    const wave = (callers: number) =>
      Effect.flatMap(
        TextRevealClient.TextRevealClient,
        (client) =>
          Effect.all(Array.from({ length: callers }, () => Effect.exit(client.getDownloadUrls(taskId))), {
            concurrency: "unbounded"
          })
      )

    it.live(
      "300 concurrent callers on a revoked token (three times what the budget could repeat), a slow token endpoint: 300 succeed, one renewal",
      () =>
        Effect.gen(function*() {
          const peer = revokingPeer(slowToken)
          const exits = yield* Effect.exit(
            Effect.gen(function*() {
              assert.strictEqual(
                (yield* Effect.flatMap(TextRevealClient.TextRevealClient, (c) => c.getDownloadUrls(taskId))).length,
                1
              )
              yield* peer.revoke
              return yield* wave(300)
            }).pipe(Effect.provide(clientLayer(peer.http, {}, passwordLayer(peer.http))), quietly)
          )
          const results = successOf(exits)
          assert.strictEqual(results.filter(Exit.isSuccess).length, 300)
          assert.strictEqual(peer.tokenRequests(), 2)
        }),
      storm
    )

    it.live(
      "token rotation: 5 waves of 200 callers, the token revoked before each, 1000 of 1000 succeed",
      () =>
        Effect.gen(function*() {
          const peer = revokingPeer(slowToken)
          const exits = yield* Effect.exit(
            Effect.gen(function*() {
              const all: Array<Exit.Exit<unknown, unknown>> = []
              for (let round = 0; round < 5; round++) {
                if (round > 0) yield* peer.revoke
                all.push(...(yield* wave(200)))
              }
              return all
            }).pipe(Effect.provide(clientLayer(peer.http, {}, passwordLayer(peer.http))), quietly)
          )
          const results = successOf(exits)
          assert.strictEqual(results.filter(Exit.isSuccess).length, 1000)
          assert.strictEqual(peer.tokenRequests(), 5)
        }),
      storm
    )
  })

  describe("time limits", () => {
    it.effect("an attempt that never answers times out after 30 s, is retried, and ends in a RequestError saying so", () =>
      Effect.gen(function*() {
        const api = fakeApi(hang)
        const error = failureOf(yield* runFor(getDownloadUrls(api)))
        assert.deepStrictEqual(arrivals(api), [0, 30_500, 61_500, 93_500])
        assert.strictEqual(error._tag, "RequestError")
        assert.include(error.message, "timed out")
        assert.include(error.message, "30s")
      }))

    it.effect("the timeout option is honoured", () =>
      Effect.gen(function*() {
        const api = fakeApi(hang)
        const fiber = yield* Effect.fork(getDownloadUrls(api, { timeout: "2 seconds", transientRetry: false }))
        yield* TestClock.adjust("1999 millis")
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
        yield* TestClock.adjust("1 millis")
        const error = failureOf(yield* Fiber.await(fiber))
        assert.include(error.message, "timed out")
      }))

    it.effect("a body that never ends times out like a silent server", () =>
      Effect.gen(function*() {
        // A body stream that never ends, erroring when the request is aborted (as real clients' bodies do).
        const api = fakeHttp((_request, _n, signal) =>
          Effect.succeed(
            new Response(
              new ReadableStream({
                start: (c) => {
                  c.enqueue(new TextEncoder().encode("[\"https:"))
                  signal.addEventListener("abort", () => c.error(signal.reason))
                }
              }),
              { status: 200 }
            )
          )
        )
        const error = failureOf(yield* runFor(getDownloadUrls(api, { transientRetry: false })))
        assert.strictEqual(api.requests.length, 1)
        assert.include(error.message, "timed out")
      }))

    it.effect("deadline bounds the whole call, retries included", () =>
      Effect.gen(function*() {
        const api = fakeApi(text(503, ""))
        const fiber = yield* Effect.fork(getDownloadUrls(api, { deadline: "1 second" }))
        yield* TestClock.adjust("1 second")
        const error = failureOf(yield* Fiber.await(fiber))
        assert.strictEqual(api.requests.length, 2)
        assert.include(error.message, "did not finish")
      }))
  })
})
