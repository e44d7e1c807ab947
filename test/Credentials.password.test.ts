/**
 * `Credentials.layerPassword`, the OAuth 2.0 password grant: what it sends, when it renews by `Clock`, one
 * token request however many fibers ask, how it bounds a token endpoint that hangs, refuses, fails or
 * answers something unusable, and that no secret is ever printed.
 *
 * The token endpoint is faked at the `HttpClient` seam; time is `TestClock`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "effect-textreveal"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import {
  apiError,
  arrivals,
  assertNothingPrinted,
  captureLogs,
  failureOf,
  type FakeApi,
  hang,
  json,
  printed,
  type ResponseReply,
  runFor,
  text,
  tooMany,
  transport
} from "./fixtures/fakeApi.js"
import {
  apiKey,
  apiSecret,
  bodyOf,
  captureSpans,
  documentedGrant,
  issued,
  passwordCredentials,
  successOf,
  tokenEndpoint,
  tokenOf
} from "./fixtures/tokenEndpoint.js"

const unavailable = apiError(503, "internal", "Service unavailable")

/**
 * Runs `f` with password credentials whose layer is closed at the end, and fails the test when closing does
 * not finish at once: a token request that cannot be interrupted would keep the layer open forever.
 */
const closedAfter = <A, E>(
  endpoint: FakeApi,
  options: Partial<Credentials.PasswordOptions>,
  f: (credentials: Credentials.Service) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const credentials = yield* Scope.extend(passwordCredentials(endpoint, options), scope)
    const result = yield* f(credentials)
    const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
    yield* TestClock.adjust(Duration.zero)
    assert.isTrue(Option.isSome(yield* Fiber.poll(closing)), "the layer closes at once")
    return result
  })

/** `n` concurrent `get`s, forked. */
const concurrentGets = (credentials: Credentials.Service, n: number) =>
  Effect.fork(Effect.all(Array.from({ length: n }, () => credentials.get), { concurrency: "unbounded" }))

describe("Credentials.layerPassword: the token request", () => {
  it.scoped("a documented password grant, POSTed as JSON to the default token URL, once a token is needed", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const credentials = yield* passwordCredentials(endpoint)
      assert.strictEqual(endpoint.requests.length, 0, "no token is requested before it is needed")
      yield* credentials.get
      assert.strictEqual(endpoint.requests.length, 1)
      const { request, url } = endpoint.requests[0]!
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(url, Credentials.defaultTokenUrl)
      assert.strictEqual(
        request.body._tag === "Uint8Array" ? request.body.contentType : request.body._tag,
        "application/json"
      )
      assert.strictEqual(request.headers["accept"], "application/json")
      assert.match(request.headers["user-agent"] ?? "", /^effect-textreveal\/\d+\.\d+\.\d+$/)
      assert.isUndefined(request.headers["authorization"])
      assert.deepStrictEqual(bodyOf(request), documentedGrant)
    }))

  it.scoped("tokenUrl, clientId and audience replace the defaults; plain strings are accepted", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const credentials = yield* passwordCredentials(endpoint, {
        username: apiKey,
        password: apiSecret,
        tokenUrl: "https://auth.example.com/oauth/token",
        clientId: "other-client",
        audience: "https://other.example.com/"
      })
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
      assert.strictEqual(endpoint.requests[0]!.url, "https://auth.example.com/oauth/token")
      assert.deepStrictEqual(bodyOf(endpoint.requests[0]!.request), {
        ...documentedGrant,
        audience: "https://other.example.com/",
        client_id: "other-client"
      })
    }))

  it.scoped("the first get obtains a token (fresh); later gets reuse it without a request", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const credentials = yield* passwordCredentials(endpoint)
      assert.isTrue(credentials.renewable)
      const first = yield* credentials.get
      assert.strictEqual(tokenOf(first), "tok-1")
      assert.isTrue(first.fresh)
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("1 hour")
        const later = yield* credentials.get
        assert.strictEqual(tokenOf(later), "tok-1")
        assert.isFalse(later.fresh)
      }
      assert.strictEqual(endpoint.requests.length, 1)
    }))

  it.effect.each([
    { case: "not a URL", tokenUrl: "login.textreveal.com/oauth/token", shown: "login.textreveal.com" },
    { case: "credentials in it", tokenUrl: "https://me:pw-4d1c9e@login.example.com/oauth/token", shown: undefined }
  ])(
    "a tokenUrl that cannot be used ($case) fails the layer with a ConfigError, before any request",
    ({ shown, tokenUrl }) =>
      Effect.gen(function*() {
        const endpoint = tokenEndpoint()
        const error = yield* Effect.flip(Effect.scoped(passwordCredentials(endpoint, { tokenUrl })))
        assert.isTrue(ConfigError.isConfigError(error))
        assert.isTrue(ConfigError.isInvalidData(error), String(error))
        assert.deepStrictEqual(error._op === "InvalidData" ? error.path : [], ["tokenUrl"])
        if (shown !== undefined) assert.include(String(error), shown)
        assertNothingPrinted("the ConfigError", error, ["pw-4d1c9e"])
        assert.strictEqual(endpoint.requests.length, 0)
      })
  )
})

describe.concurrent("Credentials.layerPassword: renewal by Clock", () => {
  it.scoped("expires_in 86400: renewed 5 minutes before the end, not a millisecond earlier", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ expiresIn: 86_400 })
      const credentials = yield* passwordCredentials(endpoint)
      yield* credentials.get
      yield* TestClock.adjust(Duration.millis(Duration.toMillis("24 hours") - Duration.toMillis("5 minutes") - 1))
      const before = yield* credentials.get
      assert.strictEqual(tokenOf(before), "tok-1")
      assert.isFalse(before.fresh)
      assert.strictEqual(endpoint.requests.length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      const renewed = yield* credentials.get
      assert.strictEqual(tokenOf(renewed), "tok-2")
      assert.isTrue(renewed.fresh)
      assert.strictEqual(endpoint.requests.length, 2)
    }))

  it.scoped("expires_in 600: renewed 10% (60 s) before the end, so a short-lived token is still reused", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ expiresIn: 600 })
      const credentials = yield* passwordCredentials(endpoint)
      yield* credentials.get
      yield* TestClock.adjust(Duration.millis(540_000 - 1))
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
      assert.strictEqual(endpoint.requests.length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      const renewed = yield* credentials.get
      assert.strictEqual(tokenOf(renewed), "tok-2")
      assert.isTrue(renewed.fresh)
      // The new token's own renewal is measured from when it was obtained.
      yield* TestClock.adjust(Duration.millis(540_000 - 1))
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-2")
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-3")
      assert.strictEqual(endpoint.requests.length, 3)
    }))

  it.scoped("the lifetime counts from the request: a slow answer does not make a token outlive its expiry", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ expiresIn: 600, latency: "20 seconds" })
      const credentials = yield* passwordCredentials(endpoint)
      assert.strictEqual(tokenOf(successOf(yield* runFor(credentials.get, "20 seconds"))), "tok-1")
      // Requested at 0: renewed at 540 s, although it arrived at 20 s.
      yield* TestClock.adjust(Duration.millis(540_000 - 20_000 - 1))
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
      yield* TestClock.adjust(Duration.millis(1))
      const renewed = yield* runFor(credentials.get, "20 seconds")
      assert.strictEqual(tokenOf(successOf(renewed)), "tok-2")
      assert.deepStrictEqual(arrivals(endpoint), [0, 540_000])
    }))

  it.scoped.each([
    { expiresIn: 600, step: 37_000 },
    { expiresIn: 60, step: 4_300 },
    { expiresIn: 86_400, step: 7_300_000 }
  ])(
    "expires_in $expiresIn, a get every $step ms: never a token past its renewal time",
    ({ expiresIn, step }) =>
      Effect.gen(function*() {
        const endpoint = tokenEndpoint({ expiresIn })
        const credentials = yield* passwordCredentials(endpoint)
        const margin = Math.min(300_000, (expiresIn * 1000) / 10)
        // 60 gets: at least four renewals in each case.
        for (let i = 0; i < 60; i++) {
          const access = yield* credentials.get
          const now = yield* Clock.currentTimeMillis
          const n = Number(tokenOf(access).slice("tok-".length))
          const obtainedAt = endpoint.requests[n - 1]!.at
          assert.isBelow(now, obtainedAt + expiresIn * 1000 - margin, `tok-${n} handed out at ${now}`)
          yield* TestClock.adjust(Duration.millis(step))
        }
        // Renewed no more often than the lifetime allows: one token per (lifetime - margin), rounded up to steps.
        const perToken = Math.ceil((expiresIn * 1000 - margin) / step) * step
        assert.strictEqual(endpoint.requests.length, Math.ceil((60 * step) / perToken))
      })
  )

  it.scoped("a failed renewal keeps serving the current token until it expires, with a warning; never after", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const endpoint = tokenEndpoint({
        expiresIn: 600,
        script: [issued(1, 600), unavailable, unavailable, unavailable]
      })
      const credentials = yield* passwordCredentials(endpoint, { transientRetry: false })
      const get = Effect.provide(credentials.get, logs.layer)
      yield* get
      yield* TestClock.adjust("540 seconds")
      const stale = yield* get
      assert.strictEqual(tokenOf(stale), "tok-1")
      assert.isFalse(stale.fresh)
      assert.deepStrictEqual(logs.logs.map((log) => [log.level, log.message]), [
        ["WARN", ["Could not renew the TextReveal token; using the current one until it expires"]]
      ])
      yield* TestClock.adjust(Duration.millis(60_000 - 1))
      assert.strictEqual(tokenOf(yield* get), "tok-1")
      assert.strictEqual(endpoint.requests.length, 3)
      yield* TestClock.adjust(Duration.millis(1))
      const error = yield* Effect.flip(get)
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(endpoint.requests.length, 4)
      // Once the endpoint answers again, a new token.
      assert.strictEqual(tokenOf(yield* get), "tok-5")
    }))
})

describe("Credentials.layerPassword: one token request at a time", () => {
  it.scoped("100 concurrent gets: one token request, and every caller gets its token, fresh", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ latency: "2 seconds" })
      const credentials = yield* passwordCredentials(endpoint)
      const all = yield* concurrentGets(credentials, 100)
      // Halfway: every caller has arrived and waits for the one request in flight.
      yield* TestClock.adjust("1 second")
      assert.strictEqual(endpoint.requests.length, 1)
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(all)
      assert.strictEqual(endpoint.requests.length, 1)
      assert.deepStrictEqual(new Set(results.map(tokenOf)), new Set(["tok-1"]))
      // `fresh`: each caller waited for a token obtained during its call.
      assert.isTrue(results.every((access) => access.fresh))
    }))

  it.scoped("100 concurrent gets at renewal time: one more token request", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ expiresIn: 600, latency: "1 second" })
      const credentials = yield* passwordCredentials(endpoint)
      yield* runFor(credentials.get, "1 second")
      yield* TestClock.adjust("539 seconds")
      const all = yield* concurrentGets(credentials, 100)
      yield* TestClock.adjust("500 millis")
      assert.strictEqual(endpoint.requests.length, 2)
      yield* TestClock.adjust("500 millis")
      const results = yield* Fiber.join(all)
      assert.strictEqual(endpoint.requests.length, 2)
      assert.deepStrictEqual(new Set(results.map(tokenOf)), new Set(["tok-2"]))
    }))
})

describe("Credentials.layerPassword: interruption", () => {
  it.scoped("interrupting the caller that started the request does not interrupt it: the other waiters get its token", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ latency: "2 seconds" })
      const credentials = yield* passwordCredentials(endpoint)
      const starter = yield* Effect.fork(credentials.get)
      yield* TestClock.adjust("500 millis")
      const waiter = yield* Effect.fork(credentials.get)
      yield* TestClock.adjust("500 millis")
      assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(starter)))
      yield* TestClock.adjust("1 second")
      const access = yield* Fiber.join(waiter)
      assert.strictEqual(tokenOf(access), "tok-1")
      assert.isTrue(access.fresh)
      assert.strictEqual(endpoint.requests.length, 1)
    }))

  it.scoped("a request whose only caller was interrupted still completes: the next caller gets its token", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ latency: "2 seconds" })
      const credentials = yield* passwordCredentials(endpoint)
      const starter = yield* Effect.fork(credentials.get)
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(starter)
      yield* TestClock.adjust("1 second")
      const access = yield* credentials.get
      assert.strictEqual(tokenOf(access), "tok-1")
      assert.isFalse(access.fresh)
      assert.strictEqual(endpoint.requests.length, 1)
    }))

  it.effect("closing the layer ends a request in flight at once: its waiters fail, none hangs", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: [hang] })
      const scope = yield* Scope.make()
      const credentials = yield* Scope.extend(passwordCredentials(endpoint), scope)
      const waiter = yield* Effect.fork(credentials.get)
      yield* TestClock.adjust("1 second")
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* TestClock.adjust(Duration.zero)
      assert.isTrue(Option.isSome(yield* Fiber.poll(closing)), "the layer closes at once")
      const waited = yield* Fiber.poll(waiter)
      assert.isTrue(Option.isSome(waited), "the waiter is done")
      if (Option.isSome(waited)) assert.strictEqual(failureOf(waited.value)._tag, "RequestError")
    }))
})

describe("Credentials.layerPassword: a token endpoint that does not answer", () => {
  /** A token request that timed out: a transport failure whose cause is a `TimeoutException`. */
  const assertTimedOut = (error: Credentials.CredentialsError) => {
    assert.strictEqual(error._tag, "RequestError")
    if (error._tag !== "RequestError") return
    assert.strictEqual(error.reason, "Transport")
    assert.isTrue(Cause.isTimeoutException(error.cause), String(error.cause))
    assert.include(error.message, "timed out")
  }

  it.effect("a caller gives up at `timeout` (default 30 s), not earlier, with a RequestError that says it timed out", () =>
    closedAfter(tokenEndpoint({ script: [hang] }), { transientRetry: false }, (credentials) =>
      Effect.gen(function*() {
        const caller = yield* Effect.fork(credentials.get)
        yield* TestClock.adjust(Duration.millis(30_000 - 1))
        assert.isTrue(Option.isNone(yield* Fiber.poll(caller)), "still waiting just before the timeout")
        yield* TestClock.adjust(Duration.millis(1))
        assertTimedOut(yield* Effect.flip(Fiber.join(caller)))
      })))

  it.effect("the request that hung is abandoned: the next caller starts a fresh one and gets its token", () => {
    const endpoint = tokenEndpoint({ script: [hang] })
    return closedAfter(
      endpoint,
      { timeout: "5 seconds", transientRetry: false },
      (credentials) =>
        Effect.gen(function*() {
          assertTimedOut(failureOf(yield* runFor(credentials.get, "5 seconds")))
          const access = yield* credentials.get
          assert.strictEqual(tokenOf(access), "tok-2")
          assert.isTrue(access.fresh)
          assert.deepStrictEqual(arrivals(endpoint), [0, 5_000])
        })
    )
  })

  it.effect("a caller that joined the request in flight fails with it, when the first caller gives up", () => {
    const endpoint = tokenEndpoint({ script: [hang] })
    return closedAfter(
      endpoint,
      { timeout: "10 seconds", transientRetry: false },
      (credentials) =>
        Effect.gen(function*() {
          const first = yield* Effect.fork(credentials.get)
          yield* TestClock.adjust("4 seconds")
          const joiner = yield* Effect.fork(credentials.get)
          yield* TestClock.adjust("6 seconds")
          const joinerError = yield* Effect.flip(Fiber.join(joiner))
          assertTimedOut(joinerError)
          assert.strictEqual(yield* Effect.flip(Fiber.join(first)), joinerError)
          assert.strictEqual(yield* Clock.currentTimeMillis, 10_000)
          assert.strictEqual(endpoint.requests.length, 1)
        })
    )
  })

  it.effect("a timed-out attempt is a transient failure: retried, and the retry's token serves the caller", () => {
    const endpoint = tokenEndpoint({ script: [hang] })
    return closedAfter(endpoint, { timeout: "10 seconds" }, (credentials) =>
      Effect.gen(function*() {
        const exit = yield* runFor(credentials.get, "1 minute")
        assert.strictEqual(tokenOf(successOf(exit)), "tok-2")
        assert.strictEqual(endpoint.requests.length, 2)
        // The retry follows the timed-out attempt after the first transient backoff, 500 ms plus up to 20%.
        const retryAt = arrivals(endpoint)[1]!
        assert.isAtLeast(retryAt, 10_500)
        assert.isAtMost(retryAt, 10_600)
      }))
  })
})

describe("Credentials.layerPassword: refused credentials", () => {
  it.scoped.each([
    { status: 400, body: { error: "invalid_request", error_description: "Missing parameter: username." } },
    { status: 401, body: { error: "access_denied", error_description: "Unauthorized client." } },
    { status: 403, body: { error: "invalid_grant", error_description: "Wrong email or password." } }
  ])(
    "$status: Unauthorized carrying status $status and the endpoint's description; not retried, not kept",
    ({ body, status }) =>
      Effect.gen(function*() {
        const endpoint = tokenEndpoint({ script: [json(status, body)] })
        const credentials = yield* passwordCredentials(endpoint)
        const error = yield* Effect.flip(credentials.get)
        assert.strictEqual(error._tag, "Unauthorized")
        if (error._tag !== "Unauthorized") return
        assert.strictEqual(error.status, status)
        assert.strictEqual(error.reason, body.error)
        assert.strictEqual(
          error.message,
          `The token endpoint refused the credentials (${status}): ${body.error_description}`
        )
        assert.strictEqual(endpoint.requests.length, 1)
        // A refusal is not kept: the next get asks again.
        assert.strictEqual(tokenOf(yield* credentials.get), "tok-2")
      })
  )
})

describe("Credentials.layerPassword: retries, jittered and bounded", () => {
  it.scoped("a 503 is retried after 500 ms, then 1 s, each plus a random 0-20%; then the token is obtained", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: [unavailable, unavailable] })
      const credentials = yield* passwordCredentials(endpoint)
      const access = successOf(yield* runFor(credentials.get, "1 minute"))
      assert.strictEqual(tokenOf(access), "tok-3")
      assert.isTrue(access.fresh)
      const [, first, second] = arrivals(endpoint)
      assert.isAtLeast(first!, 500)
      assert.isAtMost(first!, 600)
      assert.isAtLeast(second! - first!, 1_000)
      assert.isAtMost(second! - first!, 1_200)
    }))

  it.scoped.each([
    { case: "503, random 0.5", reply: unavailable, random: 0.5, wait: 550 },
    { case: "503, random 0", reply: unavailable, random: 0, wait: 500 },
    { case: "429 with Retry-After: 1, random 0.5", reply: tooMany("1"), random: 0.5, wait: 1_100 },
    { case: "429 with Retry-After: 10, random 0.5", reply: tooMany("10"), random: 0.5, wait: 11_000 },
    { case: "429 with Retry-After: 0, random 0.5 (at least up to 100 ms)", reply: tooMany("0"), random: 0.5, wait: 50 },
    { case: "429 without Retry-After, random 0.25 (full jitter of 1 s)", reply: tooMany(), random: 0.25, wait: 250 }
  ])(
    "the wait is drawn from Effect's Random: $case waits $wait ms",
    ({ random, reply, wait }) =>
      Effect.gen(function*() {
        const endpoint = tokenEndpoint({ script: [reply] })
        const credentials = yield* passwordCredentials(endpoint)
        const exit = yield* runFor(credentials.get.pipe(Effect.withRandomFixed([random])), "1 minute")
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.deepStrictEqual(arrivals(endpoint), [0, wait])
      })
  )

  it.scoped("each retry is logged at WARN with its attempt, status, reason, failure and delay", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const endpoint = tokenEndpoint({ script: [unavailable] })
      const credentials = yield* passwordCredentials(endpoint)
      yield* runFor(credentials.get.pipe(Effect.withRandomFixed([0.5]), Effect.provide(logs.layer)), "1 minute")
      assert.deepStrictEqual(logs.logs.map(({ annotations, level, message }) => ({ level, message, annotations })), [{
        level: "WARN",
        message: ["TextReveal request failed, retrying"],
        annotations: { attempt: 1, status: 503, reason: "transient", failure: "Service unavailable", delay: "550ms" }
      }])
    }))

  it.scoped("a transport failure is retried, then the token is obtained", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: [transport] })
      const credentials = yield* passwordCredentials(endpoint)
      assert.strictEqual(tokenOf(successOf(yield* runFor(credentials.get, "1 minute"))), "tok-2")
      assert.strictEqual(endpoint.requests.length, 2)
    }))

  it.scoped("transientRetry.times bounds the retries of a token endpoint that stays down: ServerError", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: Array.from({ length: 10 }, () => unavailable) })
      const credentials = yield* passwordCredentials(endpoint, { transientRetry: { times: 2 } })
      const error = failureOf(yield* runFor(credentials.get, "1 minute"))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(error._tag === "ServerError" ? error.attempts : 0, 3)
      assert.strictEqual(endpoint.requests.length, 3)
    }))

  it.scoped("maxAttempts (default 9) bounds the requests of every kind together: three 503s, then 429s", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: [unavailable, unavailable, unavailable, ...Array(20).fill(tooMany())] })
      // A timeout long enough that the waits do not reach it: only the attempt cap ends the retries.
      const credentials = yield* passwordCredentials(endpoint, { timeout: "1 hour" })
      const error = failureOf(yield* runFor(credentials.get, "1 hour"))
      assert.strictEqual(error._tag, "TooManyRequests")
      assert.strictEqual(error._tag === "TooManyRequests" ? error.attempts : 0, 9)
      assert.strictEqual(endpoint.requests.length, 9)
    }))

  it.scoped.each<{
    readonly case: string
    readonly options: Partial<Credentials.PasswordOptions>
    readonly reply: ResponseReply
  }>([
    { case: "retry: false", options: { retry: false }, reply: tooMany("1") },
    { case: "transientRetry: false", options: { transientRetry: false }, reply: unavailable },
    {
      case: "Retry-After over retry.maxRetryAfter",
      options: { retry: { maxRetryAfter: "10 seconds" } },
      reply: tooMany("20")
    },
    { case: "Retry-After past maxRetryTime", options: { maxRetryTime: "1 minute" }, reply: tooMany("90") }
  ])("$case: one request, and the call fails at once", ({ options, reply }) =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: [reply] })
      const credentials = yield* passwordCredentials(endpoint, options)
      const caller = yield* Effect.fork(credentials.get)
      // Once every fiber has settled, with no time passed: the call is over.
      yield* TestClock.adjust(Duration.zero)
      const done = yield* Fiber.poll(caller)
      assert.isTrue(Option.isSome(done), "the call waits for a retry")
      const error = failureOf(Option.getOrThrow(done))
      assert.strictEqual(error._tag, reply.status === 429 ? "TooManyRequests" : "ServerError")
      assert.strictEqual(endpoint.requests.length, 1)
      assert.strictEqual(yield* Clock.currentTimeMillis, 0)
    }))

  it.scoped("a rate-limited token request is retried for as long as its Retry-After says, within the defaults", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: [tooMany("20"), tooMany("20")] })
      const credentials = yield* passwordCredentials(endpoint)
      const exit = yield* runFor(credentials.get.pipe(Effect.withRandomFixed([0])), "5 minutes")
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      assert.deepStrictEqual(arrivals(endpoint), [0, 20_000, 40_000])
    }))
})

describe("Credentials.layerPassword: a token answer must be usable", () => {
  const secret = "SECRET-TOKEN"

  it.scoped.each([
    { case: "no expires_in", reply: json(200, { access_token: secret, token_type: "Bearer" }) },
    {
      case: "expires_in a string",
      reply: json(200, { access_token: secret, expires_in: "600", token_type: "Bearer" })
    },
    { case: "expires_in 0", reply: json(200, { access_token: secret, expires_in: 0, token_type: "Bearer" }) },
    { case: "expires_in negative", reply: json(200, { access_token: secret, expires_in: -600, token_type: "Bearer" }) },
    {
      case: "expires_in infinite (1e400)",
      reply: text(200, `{"access_token":"${secret}","expires_in":1e400,"token_type":"Bearer"}`, {
        "content-type": "application/json"
      })
    },
    {
      case: "access_token not a string",
      reply: json(200, { access_token: { value: secret }, expires_in: 600, token_type: "Bearer" })
    },
    { case: "access_token empty", reply: json(200, { access_token: "", expires_in: 600, token_type: "Bearer" }) },
    {
      case: "access_token with a space",
      reply: json(200, { access_token: `${secret} x`, expires_in: 600, token_type: "Bearer" })
    },
    {
      case: "access_token with a line break",
      reply: json(200, { access_token: `${secret}\r\nX-Injected: 1`, expires_in: 600, token_type: "Bearer" })
    },
    {
      case: "access_token non-ASCII",
      reply: json(200, { access_token: `${secret}-é`, expires_in: 600, token_type: "Bearer" })
    },
    { case: "a body that is not JSON", reply: text(200, `access_token=${secret}&expires_in=600`) }
  ])(
    "$case: a ResponseError (Decode) that quotes nothing of the body; not retried",
    ({ reply }) =>
      Effect.gen(function*() {
        const endpoint = tokenEndpoint({ script: [reply] })
        const credentials = yield* passwordCredentials(endpoint)
        const exit = yield* Effect.exit(credentials.get)
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "ResponseError")
        assert.strictEqual(error._tag === "ResponseError" ? error.reason : undefined, "Decode")
        assert.include(error.message, "The token endpoint answered 200 with a body that is not")
        assert.strictEqual(error._tag === "ResponseError" ? error.request.body._tag : undefined, "Empty")
        assert.strictEqual(endpoint.requests.length, 1)
        assertNothingPrinted("the decode error", exit, [secret, apiKey, apiSecret])
      })
  )

  it.scoped.each([
    { case: "read as a stream", headers: {} },
    { case: "with its length declared", headers: { "content-length": String(300 * 1024) } }
  ])(
    "a token answer over 256 KiB ($case): a typed error naming the limit, not retried",
    ({ headers }) =>
      Effect.gen(function*() {
        const endpoint = tokenEndpoint({ script: [text(200, "x".repeat(300 * 1024), headers)] })
        const credentials = yield* passwordCredentials(endpoint)
        const error = yield* Effect.flip(credentials.get)
        assert.strictEqual(error._tag, "ResponseError")
        assert.strictEqual(error._tag === "ResponseError" ? error.reason : undefined, "Decode")
        assert.include(error.message, "larger than the 262144 bytes limit")
        assert.strictEqual(endpoint.requests.length, 1)
      })
  )
})

describe("Credentials.layerPassword: a hostile body gives a typed result and a bounded rendering", () => {
  const nestedArrays = `${"[".repeat(10_000)}${"]".repeat(10_000)}`
  const nestedObjects = `${"{\"error\":".repeat(10_000)}null${"}".repeat(10_000)}`
  const angles = "<".repeat(100 * 1024)

  it.scoped.each([
    { case: "200, JSON nested 10,000 deep", status: 200, body: nestedArrays, tag: "ResponseError" },
    { case: "200, 100 KB of <", status: 200, body: angles, tag: "ResponseError" },
    { case: "401, JSON nested 10,000 deep", status: 401, body: nestedObjects, tag: "Unauthorized" },
    { case: "401, 100 KB of <", status: 401, body: angles, tag: "Unauthorized" },
    { case: "503, 100 KB of <", status: 503, body: angles, tag: "ServerError" }
  ])("$case: $tag, its renderings under 20,000 characters", ({ body, status, tag }) =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: [text(status, body, { "content-type": "application/json" })] })
      const credentials = yield* passwordCredentials(endpoint, { transientRetry: false })
      const exit = yield* Effect.exit(credentials.get)
      assert.strictEqual(failureOf(exit)._tag, tag)
      // Neither the body nor its nesting reaches the message: every rendering stays small.
      for (const rendering of printed(exit)) assert.isBelow(rendering.length, 20_000)
    }))
})

describe("Credentials.layerPassword: invalidate", () => {
  it.scoped("invalidating the current token makes the next get obtain a new one", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const credentials = yield* passwordCredentials(endpoint)
      const first = yield* credentials.get
      yield* credentials.invalidate(first.token)
      const second = yield* credentials.get
      assert.strictEqual(tokenOf(second), "tok-2")
      assert.isTrue(second.fresh)
      assert.strictEqual(endpoint.requests.length, 2)
    }))

  it.scoped("invalidating an older token leaves the current one", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const credentials = yield* passwordCredentials(endpoint)
      const first = yield* credentials.get
      yield* credentials.invalidate(first.token)
      yield* credentials.get
      // A second caller that was rejected with the first token reports it late.
      yield* credentials.invalidate(first.token)
      const current = yield* credentials.get
      assert.strictEqual(tokenOf(current), "tok-2")
      assert.isFalse(current.fresh)
      assert.strictEqual(endpoint.requests.length, 2)
    }))

  it.scoped("a token invalidated while its renewal is in flight is not handed out when the renewal fails", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({
        script: [issued(1, 600), { ...unavailable, latency: "1 second" }]
      })
      const credentials = yield* passwordCredentials(endpoint, { transientRetry: false })
      const rejected = yield* credentials.get
      // At renewal time a caller starts the renewal; meanwhile the API rejects tok-1 and the client discards it.
      yield* TestClock.adjust("540 seconds")
      const waiting = yield* Effect.fork(credentials.get)
      yield* TestClock.adjust("500 millis")
      yield* credentials.invalidate(rejected.token)
      yield* TestClock.adjust("500 millis")
      // tok-1 is not valid any more for the API: the renewal's error is the answer.
      const error = failureOf(yield* Fiber.await(waiting))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(endpoint.requests.length, 2)
    }))
})

describe("Credentials.layerPassword: no secret is printed", () => {
  const secrets = [apiKey, apiSecret, "tok-1"]

  it.scoped("the token handed out is Redacted", () =>
    Effect.gen(function*() {
      const credentials = yield* passwordCredentials(tokenEndpoint())
      const access = yield* credentials.get
      assert.isTrue(Redacted.isRedacted(access.token))
      assertNothingPrinted("the access token", access, secrets)
    }))

  it.scoped("a transport failure: the error keeps no copy of the request body, which holds the secret", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint({ script: [transport] })
      const credentials = yield* passwordCredentials(endpoint, { transientRetry: false })
      const exit = yield* Effect.exit(credentials.get)
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag !== "RequestError") return
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.request.url, Credentials.defaultTokenUrl)
      assert.strictEqual(error.request.body._tag, "Empty")
      assert.deepStrictEqual(Object.keys(error.request.headers), [])
      assertNothingPrinted("the RequestError", exit, secrets)
    }))

  /** A secret with the characters that PHP (`/`), Go (`<`, `>`, `&`) and HTML escape. */
  const echoed = "pw/7c41e9<x>&d2b08"
  const jsonBody = (raw: string) => ({ "content-type": "application/json", raw })
  const uEscaped = Array.from(echoed, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")
  const phpEscaped = echoed.replaceAll("/", "\\/")
  const goEscaped = echoed.replaceAll("<", "\\u003c").replaceAll(">", "\\u003e").replaceAll("&", "\\u0026")
  const htmlEscaped = echoed.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
  const description = (form: string) =>
    `{"error":"access_denied","error_description":"Wrong secret ${form} for ${apiKey}"}`

  const upper = echoed.toUpperCase()
  const upperU = Array.from(upper, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")

  it.scoped.each([
    { case: "in JSON, as sent", body: jsonBody(description(JSON.stringify(echoed).slice(1, -1))) },
    { case: "in JSON, upper-cased", body: jsonBody(description(JSON.stringify(upper).slice(1, -1))) },
    { case: "in JSON, upper-cased and \\u-escaped", body: jsonBody(description(upperU)) },
    { case: "in JSON, upper-cased and PHP-escaped", body: jsonBody(description(upper.replaceAll("/", "\\/"))) },
    {
      case: "in a text body, upper-cased and URL-encoded",
      body: { "content-type": "text/plain", raw: `Wrong secret ${encodeURIComponent(upper)} for ${apiKey}` }
    },
    {
      case: "in an HTML page, upper-cased and HTML-escaped",
      body: {
        "content-type": "text/html",
        raw: `<p>Wrong secret ${
          upper.replaceAll("&", "&AMP;").replaceAll("<", "&LT;").replaceAll(">", "&GT;")
        } for ${apiKey.toUpperCase()}</p>`
      }
    },
    { case: "in JSON, \\u-escaped", body: jsonBody(description(uEscaped)) },
    { case: "in JSON, PHP-escaped (\\/)", body: jsonBody(description(phpEscaped)) },
    { case: "in JSON, Go-escaped (\\u003c)", body: jsonBody(description(goEscaped)) },
    {
      case: "in a text body, as sent",
      body: { "content-type": "text/plain", raw: `Wrong secret ${echoed} for ${apiKey}` }
    },
    {
      case: "in a text body, PHP-escaped",
      body: { "content-type": "text/plain", raw: `Wrong secret ${phpEscaped} for ${apiKey}` }
    },
    {
      case: "in a text body, Go-escaped",
      body: { "content-type": "text/plain", raw: `Wrong secret ${goEscaped} for ${apiKey}` }
    },
    {
      case: "in an HTML page, HTML-escaped",
      body: {
        "content-type": "text/html",
        raw: `<html><body><p>Wrong secret ${htmlEscaped} for ${apiKey}</p></body></html>`
      }
    }
  ])(
    "the key and secret echoed by a refusal ($case) are blanked out of every rendering",
    ({ body }) =>
      Effect.gen(function*() {
        const logs = captureLogs()
        const endpoint = tokenEndpoint({ script: [text(401, body.raw, { "content-type": body["content-type"] })] })
        const credentials = yield* passwordCredentials(endpoint, { password: echoed })
        const exit = yield* credentials.get.pipe(
          Effect.tapErrorCause(Effect.logDebug),
          Effect.exit,
          Effect.provide(logs.layer),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "Unauthorized")
        assert.include(error.message, "Wrong secret <redacted> for <redacted>")
        const forms = [apiKey, echoed, uEscaped, phpEscaped, goEscaped, htmlEscaped, upperU, "7c41e9", "d2b08"]
        assertNothingPrinted("the refusal", exit, forms)
        assert.isNotEmpty(logs.logs)
        for (const log of logs.logs) assertNothingPrinted("a log line", log, forms)
      })
  )

  it.scoped("spans: Credentials.requestToken is traced; the platform's http.client span is off; no span holds a secret", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* captureSpans
      const endpoint = tokenEndpoint({
        script: [json(503, { message: `no ${apiSecret} for ${apiKey}`, code: 503, reason: "internal" })]
      })
      const credentials = yield* passwordCredentials(endpoint)
      yield* runFor(credentials.get.pipe(Effect.withTracer(tracer)), "1 minute")
      yield* credentials.invalidate(Redacted.make("tok-2"))
      yield* credentials.get.pipe(Effect.withTracer(tracer))
      assert.deepStrictEqual(spans.map((span) => span.name), ["Credentials.requestToken", "Credentials.requestToken"])
      for (const span of spans) {
        assert.strictEqual(span.status._tag, "Ended")
        assertNothingPrinted(`the span ${span.name}`, span.attributes, [...secrets, "tok-2", "tok-3"])
        if (span.status._tag === "Ended") {
          assertNothingPrinted(`the exit of ${span.name}`, span.status.exit, [...secrets, "tok-2", "tok-3"])
        }
      }
    }))

  it.scoped("logs of retries and of a failed renewal, at every level, print no secret", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const endpoint = tokenEndpoint({
        script: [
          issued(1, 600),
          json(503, { message: `down for ${apiKey}:${apiSecret}`, code: 503, reason: "internal" }),
          transport,
          text(502, `<html>${apiSecret}</html>`)
        ]
      })
      const credentials = yield* passwordCredentials(endpoint, { transientRetry: { times: 2 } })
      const get = credentials.get.pipe(Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.All))
      yield* get
      yield* TestClock.adjust("540 seconds")
      const access = successOf(yield* runFor(get, "1 minute"))
      assert.strictEqual(tokenOf(access), "tok-1")
      assert.strictEqual(logs.logs.filter((log) => log.level === "WARN").length, 3)
      for (const log of logs.logs) assertNothingPrinted("a log line", log, secrets)
    }))

  it.scoped("a failed token request logs its retries and the renewal warning, and nothing else at any level", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const endpoint = tokenEndpoint({ script: [issued(1, 600), unavailable, unavailable] })
      const credentials = yield* passwordCredentials(endpoint, { transientRetry: { times: 1 } })
      const get = credentials.get.pipe(Effect.provide(logs.layer), Logger.withMinimumLogLevel(LogLevel.All))
      yield* get
      yield* TestClock.adjust("540 seconds")
      yield* runFor(get, "1 minute")
      assert.deepStrictEqual(logs.logs.map((log) => `${log.level} ${log.message}`), [
        "WARN TextReveal request failed, retrying",
        "WARN Could not renew the TextReveal token; using the current one until it expires"
      ])
    }))
})
