/**
 * Password-grant credentials (issue 4): tokens obtained on first use, kept, renewed before they expire by
 * `TestClock`, one token request however many fibers ask, refusals and faults of the token endpoint, no
 * secret printed; the client renewing a rejected token once; `layerConfig`; a simulated day against the
 * sandbox.
 *
 * Unit tests fake the token endpoint (and the API) at the `HttpClient` seam; the last part runs the real
 * client over sockets against the sandbox, whose clock is the test's `TestClock`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/testing"
import * as Clock from "effect/Clock"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as util from "node:util"

// ---- a fake HTTP peer at the HttpClient seam

/** The distinctive secrets of these tests: finding one in printed output means it leaked. */
const apiKey = "key-7f3a91c2e0"
const apiSecret = "secret-c8d2b4f6a1"

const taskId = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
const fileUrl = `https://files.textreveal.com/exports/task=${taskId}/${taskId}.csv`

/** One request the fake received, with its JSON body decoded. */
interface Sent {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly contentType: string | undefined
  readonly body: unknown
  /** The `Clock` time it was received. */
  readonly at: number
}

/** What the fake answers: a response, or a transport failure. */
type Answer = Response | "transport"

const bodyOf = (request: HttpClientRequest.HttpClientRequest): unknown =>
  request.body._tag === "Uint8Array" ? JSON.parse(new TextDecoder().decode(request.body.body)) : undefined

const jsonResponse = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })

/**
 * An `HttpClient` whose every request is recorded and answered by `handler` (given the request and its
 * 1-based number).
 */
const fakeHttp = (handler: (request: Sent, n: number) => Effect.Effect<Answer>) => {
  const sent: Array<Sent> = []
  const client = HttpClient.make((request) =>
    Effect.gen(function*() {
      const recorded: Sent = {
        method: request.method,
        url: request.url,
        headers: request.headers,
        contentType: request.body._tag === "Empty" ? undefined : request.body.contentType,
        body: bodyOf(request),
        at: yield* Clock.currentTimeMillis
      }
      sent.push(recorded)
      const answer = yield* handler(recorded, sent.length)
      if (answer === "transport") {
        return yield* new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: new Error("connect ECONNREFUSED 127.0.0.1:443")
        })
      }
      return HttpClientResponse.fromWeb(request, answer)
    })
  )
  return { sent, client, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

/** A token endpoint's success: `tok-<n>` living `expiresIn` seconds. */
const issued = (n: number, expiresIn: number = 86_400): Response =>
  jsonResponse(200, { access_token: `tok-${n}`, expires_in: expiresIn, token_type: "Bearer" })

interface TokenEndpointOptions {
  /** `expires_in` of the tokens it issues. Default: 86400, as documented. */
  readonly expiresIn?: number | undefined
  /** How long (by `TestClock`) it takes to answer. Default: no time. */
  readonly latency?: Duration.DurationInput | undefined
  /** Answers for the first requests, by number (1-based); the others get a token `tok-<n>`. */
  readonly script?: ReadonlyArray<Answer> | undefined
}

/** A fake token endpoint alone: every request it receives is answered as a token request. */
const tokenEndpoint = (options: TokenEndpointOptions = {}) =>
  fakeHttp((_request, n) =>
    Effect.gen(function*() {
      if (options.latency !== undefined) yield* Effect.sleep(options.latency)
      return options.script?.[n - 1] ?? issued(n, options.expiresIn)
    })
  )

/** Password credentials on a fake endpoint, scoped to the test. */
const passwordCredentials = (
  fake: ReturnType<typeof fakeHttp>,
  options: Partial<Credentials.PasswordOptions> = {}
) =>
  Credentials.makePassword({ username: Redacted.make(apiKey), password: Redacted.make(apiSecret), ...options }).pipe(
    Effect.provideService(HttpClient.HttpClient, fake.client)
  )

const tokenOf = (access: Credentials.AccessToken): string => Redacted.value(access.token)

/** Gives the other fibers turns until `condition` holds; fails the test if it never does. */
const until = (condition: Effect.Effect<boolean>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      if (yield* condition) return
      yield* Effect.yieldNow()
    }
    assert.fail(`never happened: ${what}`)
  })

const isSleeping = Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length > 0)

/** Advances `TestClock` a second at a time until the fiber is done (at most an hour). */
const runToEnd = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 3600; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) return yield* Fiber.join(fiber)
      yield* TestClock.adjust("1 second")
    }
    return assert.fail("still running after an hour by TestClock")
  })

/** Every printed form of a value: none may hold a secret. */
const printed = (value: unknown): ReadonlyArray<string> => [
  String(value),
  JSON.stringify(value),
  util.inspect(value, { depth: Infinity, showHidden: true })
]

const assertNothingPrinted = (what: string, value: unknown, secrets: ReadonlyArray<string>) => {
  for (const text of printed(value)) {
    for (const secret of secrets) assert.notInclude(text, secret, `${what} prints a secret`)
  }
}

/** Runs `effect` with every log line (all levels, causes and annotations included) captured in `lines`. */
const capturingLogs = (lines: Array<string>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provide(Logger.replace(
      Logger.defaultLogger,
      Logger.make((options) => {
        lines.push(Logger.logfmtLogger.log(options))
        lines.push(util.inspect(Logger.structuredLogger.log(options), { depth: Infinity }))
      })
    )),
    Logger.withMinimumLogLevel(LogLevel.All)
  )

// ---- unit tests of the password grant

describe("Credentials.layerPassword: the token request", () => {
  it.effect("a documented password grant, POSTed as JSON to the default token URL", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint()
      const credentials = yield* passwordCredentials(fake)
      assert.strictEqual(fake.sent.length, 0, "no token is requested before it is needed")
      yield* credentials.get
      assert.strictEqual(fake.sent.length, 1)
      const request = fake.sent[0]!
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.url, "https://login.textreveal.com/oauth/token")
      assert.strictEqual(request.contentType, "application/json")
      assert.isUndefined(request.headers["authorization"])
      assert.deepStrictEqual(request.body, {
        grant_type: "password",
        username: apiKey,
        password: apiSecret,
        audience: "https://api.textreveal.com/",
        client_id: "2vlZbytm6YvS48bl0lH3Dcjxq87iXX4w"
      })
    }).pipe(Effect.scoped))

  it.effect("tokenUrl, clientId and audience replace the defaults; plain strings are accepted", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint()
      const credentials = yield* Credentials.makePassword({
        username: apiKey,
        password: apiSecret,
        tokenUrl: "https://auth.example.com/oauth/token",
        clientId: "other-client",
        audience: "https://other.example.com/"
      }).pipe(Effect.provideService(HttpClient.HttpClient, fake.client))
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
      assert.strictEqual(fake.sent[0]!.url, "https://auth.example.com/oauth/token")
      assert.deepStrictEqual(fake.sent[0]!.body, {
        grant_type: "password",
        username: apiKey,
        password: apiSecret,
        audience: "https://other.example.com/",
        client_id: "other-client"
      })
    }).pipe(Effect.scoped))

  it.effect("the first get obtains a token (fresh); later gets reuse it without a request", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint()
      const credentials = yield* passwordCredentials(fake)
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
      assert.strictEqual(fake.sent.length, 1)
    }).pipe(Effect.scoped))
})

describe("Credentials.layerPassword: renewal by Clock", () => {
  it.effect("expires_in 86400: renewed 5 minutes before the end, not a millisecond earlier", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint({ expiresIn: 86_400 })
      const credentials = yield* passwordCredentials(fake)
      yield* credentials.get
      yield* TestClock.adjust(Duration.millis(Duration.toMillis("24 hours") - Duration.toMillis("5 minutes") - 1))
      const before = yield* credentials.get
      assert.strictEqual(tokenOf(before), "tok-1")
      assert.isFalse(before.fresh)
      assert.strictEqual(fake.sent.length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      const renewed = yield* credentials.get
      assert.strictEqual(tokenOf(renewed), "tok-2")
      assert.isTrue(renewed.fresh)
      assert.strictEqual(fake.sent.length, 2)
    }).pipe(Effect.scoped))

  it.effect("expires_in 600: renewed 10% (60 s) before the end, so a short-lived token is still reused", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint({ expiresIn: 600 })
      const credentials = yield* passwordCredentials(fake)
      yield* credentials.get
      yield* TestClock.adjust(Duration.millis(540_000 - 1))
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
      assert.strictEqual(fake.sent.length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      const renewed = yield* credentials.get
      assert.strictEqual(tokenOf(renewed), "tok-2")
      assert.isTrue(renewed.fresh)
      // The new token's own renewal is measured from when it was obtained.
      yield* TestClock.adjust(Duration.millis(540_000 - 1))
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-2")
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-3")
      assert.strictEqual(fake.sent.length, 3)
    }).pipe(Effect.scoped))

  it.effect.each([
    { expiresIn: 600, step: 37_000 },
    { expiresIn: 60, step: 4_300 },
    { expiresIn: 86_400, step: 1_700_000 }
  ])(
    "expires_in $expiresIn, a get every $step ms: never a token past its renewal time",
    ({ expiresIn, step }) =>
      Effect.gen(function*() {
        const fake = tokenEndpoint({ expiresIn })
        const credentials = yield* passwordCredentials(fake)
        const margin = Math.min(300_000, (expiresIn * 1000) / 10)
        for (let i = 0; i < 150; i++) {
          const access = yield* credentials.get
          const now = yield* Clock.currentTimeMillis
          const n = Number(tokenOf(access).slice("tok-".length))
          const obtainedAt = fake.sent[n - 1]!.at
          assert.isBelow(now, obtainedAt + expiresIn * 1000 - margin, `tok-${n} handed out at ${now}`)
          yield* TestClock.adjust(Duration.millis(step))
        }
        // Renewed no more often than the lifetime allows: one token per (lifetime - margin), rounded up to steps.
        const perToken = Math.ceil((expiresIn * 1000 - margin) / step) * step
        assert.strictEqual(fake.sent.length, Math.ceil((150 * step) / perToken))
      }).pipe(Effect.scoped)
  )

  it.effect("a failed renewal keeps serving the current token until it expires, never after", () =>
    Effect.gen(function*() {
      const unavailable = () => jsonResponse(503, { message: "Service unavailable", code: 503, reason: "internal" })
      const fake = tokenEndpoint({
        expiresIn: 600,
        script: [issued(1, 600), unavailable(), unavailable(), unavailable()]
      })
      const credentials = yield* passwordCredentials(fake, { transientRetry: false })
      yield* credentials.get
      yield* TestClock.adjust("540 seconds")
      const stale = yield* credentials.get.pipe(Logger.withMinimumLogLevel(LogLevel.None))
      assert.strictEqual(tokenOf(stale), "tok-1")
      assert.isFalse(stale.fresh)
      yield* TestClock.adjust(Duration.millis(60_000 - 1))
      assert.strictEqual(tokenOf(yield* credentials.get.pipe(Logger.withMinimumLogLevel(LogLevel.None))), "tok-1")
      assert.strictEqual(fake.sent.length, 3)
      yield* TestClock.adjust(Duration.millis(1))
      const error = yield* Effect.flip(credentials.get)
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(fake.sent.length, 4)
      // Once the endpoint answers again, a new token.
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-5")
    }).pipe(Effect.scoped))
})

describe("Credentials.layerPassword: concurrency", () => {
  it.effect("100 concurrent gets: one token request, all get its token", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint({ latency: "2 seconds" })
      const credentials = yield* passwordCredentials(fake)
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 100 }, () => credentials.get), { concurrency: "unbounded" })
      )
      yield* until(isSleeping, "the token request is in flight")
      // Let every caller arrive while the request is in flight.
      for (let i = 0; i < 50; i++) yield* Effect.yieldNow()
      assert.strictEqual(fake.sent.length, 1)
      yield* TestClock.adjust("2 seconds")
      const results = yield* Fiber.join(fiber)
      assert.strictEqual(fake.sent.length, 1)
      assert.strictEqual(results.length, 100)
      assert.deepStrictEqual(new Set(results.map(tokenOf)), new Set(["tok-1"]))
      // Each caller waited for a token obtained during its call.
      assert.isTrue(results.every((access) => access.fresh))
    }).pipe(Effect.scoped))

  it.effect("100 concurrent gets at renewal time: one more token request", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint({ expiresIn: 600, latency: "1 second" })
      const credentials = yield* passwordCredentials(fake)
      const first = yield* Effect.fork(credentials.get)
      yield* until(isSleeping, "the first token request is in flight")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(tokenOf(yield* Fiber.join(first)), "tok-1")
      yield* TestClock.adjust("540 seconds")
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 100 }, () => credentials.get), { concurrency: "unbounded" })
      )
      yield* until(isSleeping, "the renewal is in flight")
      for (let i = 0; i < 50; i++) yield* Effect.yieldNow()
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(fiber)
      assert.strictEqual(fake.sent.length, 2)
      assert.deepStrictEqual(new Set(results.map(tokenOf)), new Set(["tok-2"]))
    }).pipe(Effect.scoped))
})

describe("Credentials.layerPassword: the token endpoint fails", () => {
  it.effect.each([
    {
      status: 403,
      body: { error: "invalid_grant", error_description: "Wrong email or password." },
      description: "Wrong email or password."
    },
    {
      status: 401,
      body: { error: "access_denied", error_description: "Unauthorized client." },
      description: "Unauthorized client."
    }
  ])(
    "$status: Unauthorized with the endpoint's description, not retried",
    ({ body, description, status }) =>
      Effect.gen(function*() {
        const fake = tokenEndpoint({ script: [jsonResponse(status, body)] })
        const credentials = yield* passwordCredentials(fake)
        const error = yield* Effect.flip(credentials.get)
        assert.strictEqual(error._tag, "Unauthorized")
        if (error._tag !== "Unauthorized") return
        assert.strictEqual(error.status, 401)
        assert.include(error.message, description)
        assert.strictEqual(error.reason, body.error)
        assert.strictEqual(fake.sent.length, 1)
        // A refusal is not kept: the next get asks again.
        assert.strictEqual(tokenOf(yield* credentials.get), "tok-2")
      }).pipe(Effect.scoped)
  )

  it.effect.each([
    { status: 429, body: { message: "Too many requests", code: 429, reason: "too_many_requests" } },
    { status: 503, body: { message: "Service unavailable", code: 503, reason: "internal" } }
  ])(
    "$status is retried after a backoff by Clock, then the token is obtained",
    ({ body, status }) =>
      Effect.gen(function*() {
        const fake = tokenEndpoint({ script: [jsonResponse(status, body), jsonResponse(status, body)] })
        const credentials = yield* passwordCredentials(fake)
        const fiber = yield* Effect.fork(credentials.get.pipe(Logger.withMinimumLogLevel(LogLevel.None)))
        yield* until(isSleeping, "the retry waits")
        assert.strictEqual(fake.sent.length, 1)
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "the retry waits for the clock")
        const access = yield* runToEnd(fiber)
        assert.strictEqual(tokenOf(access), "tok-3")
        assert.isTrue(access.fresh)
        assert.strictEqual(fake.sent.length, 3)
      }).pipe(Effect.scoped)
  )

  it.effect("a transport failure is retried, then the token is obtained", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint({ script: ["transport"] })
      const credentials = yield* passwordCredentials(fake)
      const fiber = yield* Effect.fork(credentials.get.pipe(Logger.withMinimumLogLevel(LogLevel.None)))
      yield* until(isSleeping, "the retry waits")
      assert.strictEqual(fake.sent.length, 1)
      assert.strictEqual(tokenOf(yield* runToEnd(fiber)), "tok-2")
      assert.strictEqual(fake.sent.length, 2)
    }).pipe(Effect.scoped))

  it.effect("retries are bounded: a token endpoint that stays down gives ServerError", () =>
    Effect.gen(function*() {
      const fake = fakeHttp(() =>
        Effect.sync(() => jsonResponse(503, { message: "Service unavailable", code: 503, reason: "internal" }))
      )
      const credentials = yield* passwordCredentials(fake, { transientRetry: { times: 2 } })
      const fiber = yield* Effect.fork(Effect.flip(credentials.get.pipe(Logger.withMinimumLogLevel(LogLevel.None))))
      const error = yield* runToEnd(fiber)
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(fake.sent.length, 3)
    }).pipe(Effect.scoped))
})

describe("Credentials.layerPassword: invalidate", () => {
  it.effect("invalidating the current token makes the next get obtain a new one", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint()
      const credentials = yield* passwordCredentials(fake)
      const first = yield* credentials.get
      yield* credentials.invalidate(first.token)
      const second = yield* credentials.get
      assert.strictEqual(tokenOf(second), "tok-2")
      assert.isTrue(second.fresh)
      assert.strictEqual(fake.sent.length, 2)
    }).pipe(Effect.scoped))

  it.effect("invalidating an older token leaves the current one", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint()
      const credentials = yield* passwordCredentials(fake)
      const first = yield* credentials.get
      yield* credentials.invalidate(first.token)
      yield* credentials.get
      // A second caller that was rejected with the first token reports it late.
      yield* credentials.invalidate(first.token)
      const current = yield* credentials.get
      assert.strictEqual(tokenOf(current), "tok-2")
      assert.isFalse(current.fresh)
      assert.strictEqual(fake.sent.length, 2)
    }).pipe(Effect.scoped))

  it.effect("a token invalidated while its renewal is in flight is not handed out when the renewal fails", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint({
        expiresIn: 600,
        latency: "1 second",
        script: [issued(1, 600), jsonResponse(503, { message: "down", code: 503, reason: "internal" })]
      })
      const credentials = yield* passwordCredentials(fake, { transientRetry: false })
      const first = yield* Effect.fork(credentials.get)
      yield* until(isSleeping, "the first token request is in flight")
      yield* TestClock.adjust("1 second")
      const rejected = yield* Fiber.join(first)
      // At renewal time a caller starts the renewal; meanwhile the API rejects tok-1 and the client discards it.
      yield* TestClock.adjust("540 seconds")
      const waiting = yield* Effect.fork(Effect.either(credentials.get.pipe(Logger.withMinimumLogLevel(LogLevel.None))))
      yield* until(isSleeping, "the renewal is in flight")
      yield* credentials.invalidate(rejected.token)
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(waiting)
      // tok-1 is not valid any more for the API: the renewal's error is the answer, not the rejected token.
      assert.isTrue(
        result._tag === "Left" || tokenOf(result.right) !== "tok-1",
        "the token the API rejected is handed out again"
      )
    }).pipe(Effect.scoped))
})

describe("Credentials.layerPassword: no secret printed", () => {
  const secrets = [apiKey, apiSecret, "tok-1", "SECRET-TOKEN"]

  it.effect("the token handed out is Redacted", () =>
    Effect.gen(function*() {
      const credentials = yield* passwordCredentials(tokenEndpoint())
      const access = yield* credentials.get
      assert.isTrue(Redacted.isRedacted(access.token))
      assertNothingPrinted("the access token", access, secrets)
    }).pipe(Effect.scoped))

  it.effect("refused credentials: the error prints no secret", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint({
        script: [jsonResponse(403, { error: "invalid_grant", error_description: "Wrong email or password." })]
      })
      const credentials = yield* passwordCredentials(fake)
      const error = yield* Effect.flip(credentials.get)
      assert.strictEqual(error._tag, "Unauthorized")
      assertNothingPrinted("Unauthorized", error, secrets)
    }).pipe(Effect.scoped))

  it.effect("refused credentials echoed by the endpoint: the key and secret are blanked out of the message", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint({
        script: [jsonResponse(401, { error: "access_denied", error_description: `No key ${apiKey} with ${apiSecret}` })]
      })
      const credentials = yield* passwordCredentials(fake)
      const error = yield* Effect.flip(credentials.get)
      assert.strictEqual(error._tag, "Unauthorized")
      assert.include(error.message, "No key <redacted> with <redacted>")
      assertNothingPrinted("Unauthorized", error, secrets)
    }).pipe(Effect.scoped))

  it.effect("a transport failure: the error keeps no copy of the request body, which holds the secret", () =>
    Effect.gen(function*() {
      const fake = fakeHttp(() => Effect.succeed("transport" as const))
      const credentials = yield* passwordCredentials(fake, { transientRetry: false })
      const error = yield* Effect.flip(credentials.get)
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag !== "RequestError") return
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.request.url, "https://login.textreveal.com/oauth/token")
      assert.strictEqual(error.request.body._tag, "Empty")
      assertNothingPrinted("RequestError", error, secrets)
    }).pipe(Effect.scoped))

  it.effect.each([
    { case: "no expires_in", body: { access_token: "SECRET-TOKEN" } },
    { case: "expires_in a string", body: { access_token: "SECRET-TOKEN", expires_in: "600", token_type: "Bearer" } },
    {
      case: "access_token not a string",
      body: { access_token: { value: "SECRET-TOKEN" }, expires_in: 600, token_type: "Bearer" }
    }
  ])(
    "a token answer of the wrong shape ($case): a typed decode error that prints no token",
    ({ body }) =>
      Effect.gen(function*() {
        const fake = tokenEndpoint({ script: [jsonResponse(200, body)] })
        const credentials = yield* passwordCredentials(fake)
        const error = yield* Effect.flip(credentials.get)
        assert.strictEqual(error._tag, "ResponseError")
        if (error._tag !== "ResponseError") return
        assert.strictEqual(error.reason, "Decode")
        assert.strictEqual(error.request.body._tag, "Empty")
        assert.strictEqual(fake.sent.length, 1)
        assertNothingPrinted("the decode error", error, secrets)
      }).pipe(Effect.scoped)
  )

  it.effect("logs of retries, a failed renewal and a renewal after a 401 print no secret", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      // Requests: 1 token (tok-1), 2 API 401, 3 token (transport failure, retried), 4 token (tok-4), 5 API 200.
      const fake = fakeHttp((request, n) =>
        Effect.succeed(
          request.url === Credentials.defaultTokenUrl
            ? (n === 3 ? "transport" : issued(n))
            : request.headers["authorization"] === "Bearer tok-1"
            ? jsonResponse(401, { message: "invalid username or API key", code: 401, reason: "unauthorized" })
            : jsonResponse(200, [fileUrl])
        )
      )
      const layer = TextRevealClient.layer().pipe(
        Layer.provideMerge(Credentials.layerPassword({ username: apiKey, password: apiSecret })),
        Layer.provide(fake.layer)
      )
      const fiber = yield* Effect.fork(
        Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId)).pipe(
          Effect.provide(layer),
          capturingLogs(lines)
        )
      )
      const urls = yield* runToEnd(fiber)
      assert.strictEqual(urls.length, 1)
      assert.strictEqual(fake.sent.length, 5)
      assert.isTrue(lines.some((line) => line.includes("retrying")), "a retry is logged")
      assert.isTrue(lines.some((line) => line.includes("renewing")), "the renewal after a 401 is logged")
      for (const line of lines) {
        for (const secret of [apiKey, apiSecret, "tok-1", "tok-4"]) assert.notInclude(line, secret)
      }
    }))

  it.effect("the warning of a failed renewal prints no secret", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const fake = tokenEndpoint({
        expiresIn: 600,
        script: [issued(1, 600), jsonResponse(503, { message: "down", code: 503, reason: "internal" })]
      })
      const credentials = yield* passwordCredentials(fake, { transientRetry: false })
      yield* credentials.get
      yield* TestClock.adjust("550 seconds")
      const access = yield* credentials.get.pipe(capturingLogs(lines))
      assert.strictEqual(tokenOf(access), "tok-1")
      assert.isTrue(lines.some((line) => line.includes("Could not renew")), "the failed renewal is logged")
      for (const line of lines) {
        for (const secret of secrets) assert.notInclude(line, secret)
      }
    }).pipe(Effect.scoped))
})

// ---- the client renews a rejected token

describe("TextRevealClient with Credentials.layerPassword", () => {
  const unauthorized = () =>
    jsonResponse(401, { message: "invalid username or API key", code: 401, reason: "unauthorized" })
  const forbidden = () =>
    jsonResponse(403, {
      message: "Not authorized to access this resource",
      code: 403,
      reason: "forbidden"
    })
  const ok = () => jsonResponse(200, [fileUrl])

  /** One fake peer: the token endpoint issues `tok-<n>`; the API answers `api` in turn, then 200. */
  const fakePeer = (api: ReadonlyArray<() => Response>) => {
    let calls = 0
    const fake = fakeHttp((request) =>
      Effect.sync(() => {
        if (request.url === Credentials.defaultTokenUrl) {
          const n = fake.sent.filter((r) => r.url === Credentials.defaultTokenUrl).length
          return issued(n)
        }
        return (api[calls++] ?? ok)()
      })
    )
    const tokenRequests = () => fake.sent.filter((r) => r.url === Credentials.defaultTokenUrl).length
    const authorizations = () =>
      fake.sent.filter((r) => r.url !== Credentials.defaultTokenUrl).map((r) => r.headers["authorization"])
    return { fake, tokenRequests, authorizations }
  }

  const clientLayer = (
    peer: ReturnType<typeof fakePeer>,
    credentials: Layer.Layer<Credentials.Credentials, never, HttpClient.HttpClient> = Credentials.layerPassword({
      username: apiKey,
      password: apiSecret
    })
  ) =>
    TextRevealClient.layer().pipe(
      Layer.provide(credentials),
      Layer.provide(peer.fake.layer)
    )

  const call = Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId)).pipe(
    Logger.withMinimumLogLevel(LogLevel.None)
  )

  it.effect("a 401: the token is discarded, a new one obtained and the call repeated once", () =>
    Effect.gen(function*() {
      const peer = fakePeer([unauthorized])
      const urls = yield* Effect.provide(call, clientLayer(peer))
      assert.strictEqual(urls.length, 1)
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("a 401 on a cached token, in a later call: renewed and repeated, and the new token is kept", () =>
    Effect.gen(function*() {
      const peer = fakePeer([ok, unauthorized])
      yield* Effect.gen(function*() {
        yield* call
        yield* call
        yield* call
      }).pipe(Effect.provide(clientLayer(peer)))
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("a second 401: Unauthorized, after exactly 2 API and 2 token requests", () =>
    Effect.gen(function*() {
      const peer = fakePeer([unauthorized, unauthorized])
      const error = yield* Effect.flip(Effect.provide(call, clientLayer(peer)))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("a 403 on a token obtained for this call is a real refusal: Forbidden, not repeated", () =>
    Effect.gen(function*() {
      const peer = fakePeer([forbidden])
      const error = yield* Effect.flip(Effect.provide(call, clientLayer(peer)))
      assert.strictEqual(error._tag, "Forbidden")
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1"])
      assert.strictEqual(peer.tokenRequests(), 1)
    }))

  it.effect("a 403 on an older (cached) token: renewed and repeated once", () =>
    Effect.gen(function*() {
      const peer = fakePeer([ok, forbidden])
      const urls = yield* Effect.gen(function*() {
        yield* call
        return yield* call
      }).pipe(Effect.provide(clientLayer(peer)))
      assert.strictEqual(urls.length, 1)
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("a 403 on a cached token, then a 403 on the new one: Forbidden, repeated only once", () =>
    Effect.gen(function*() {
      const peer = fakePeer([ok, forbidden, forbidden])
      const error = yield* Effect.gen(function*() {
        yield* call
        return yield* Effect.flip(call)
      }).pipe(Effect.provide(clientLayer(peer)))
      assert.strictEqual(error._tag, "Forbidden")
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("Credentials.layerToken: a 401 is not repeated", () =>
    Effect.gen(function*() {
      const peer = fakePeer([unauthorized])
      const error = yield* Effect.flip(
        Effect.provide(call, clientLayer(peer, Credentials.layerToken(Redacted.make("fixed-token"))))
      )
      assert.strictEqual(error._tag, "Unauthorized")
      assert.deepStrictEqual(peer.authorizations(), ["Bearer fixed-token"])
      assert.strictEqual(peer.tokenRequests(), 0)
    }))

  it.effect("refused credentials: Unauthorized from the token endpoint; the API is never called", () =>
    Effect.gen(function*() {
      const fake = fakeHttp((request) =>
        Effect.succeed(
          request.url === Credentials.defaultTokenUrl
            ? jsonResponse(403, { error: "invalid_grant", error_description: "Wrong email or password." })
            : jsonResponse(200, [fileUrl])
        )
      )
      const error = yield* Effect.flip(Effect.provide(
        call,
        TextRevealClient.layer().pipe(
          Layer.provide(Credentials.layerPassword({ username: apiKey, password: apiSecret })),
          Layer.provide(fake.layer)
        )
      ))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.include(error.message, "Wrong email or password.")
      assert.deepStrictEqual(fake.sent.map((r) => r.url), [Credentials.defaultTokenUrl])
      assertNothingPrinted("Unauthorized", error, [apiKey, apiSecret])
    }))
})

// ---- layerConfig

describe("Credentials.layerConfig", () => {
  const fromEnv = (entries: ReadonlyArray<readonly [string, string]>, fake: ReturnType<typeof fakeHttp>) =>
    Credentials.layerConfig.pipe(
      Layer.provide(fake.layer),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries))))
    )

  it.effect("TEXTREVEAL_TOKEN: a fixed token, never renewed, no token request", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint()
      yield* Effect.gen(function*() {
        const credentials = yield* Credentials.Credentials
        assert.isFalse(credentials.renewable)
        const access = yield* credentials.get
        assert.strictEqual(tokenOf(access), "env-token")
        assertNothingPrinted("the access token", access, ["env-token"])
      }).pipe(
        Effect.provide(fromEnv([
          ["TEXTREVEAL_TOKEN", "env-token"],
          ["TEXTREVEAL_USERNAME", apiKey],
          ["TEXTREVEAL_PASSWORD", apiSecret]
        ], fake))
      )
      assert.strictEqual(fake.sent.length, 0)
    }))

  it.effect("an empty TEXTREVEAL_TOKEN counts as unset: the username and password are used", () =>
    Effect.gen(function*() {
      const fake = tokenEndpoint()
      yield* Effect.gen(function*() {
        const credentials = yield* Credentials.Credentials
        assert.isTrue(credentials.renewable)
        assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
      }).pipe(
        Effect.provide(fromEnv([
          ["TEXTREVEAL_TOKEN", ""],
          ["TEXTREVEAL_USERNAME", apiKey],
          ["TEXTREVEAL_PASSWORD", apiSecret]
        ], fake))
      )
      assert.strictEqual(fake.sent.length, 1)
    }))

  it.effect.each([
    { case: "with TEXTREVEAL_TOKEN_URL", tokenUrl: "https://auth.example.com/oauth/token" },
    { case: "without TEXTREVEAL_TOKEN_URL", tokenUrl: undefined }
  ])(
    "TEXTREVEAL_USERNAME and TEXTREVEAL_PASSWORD ($case): the password grant",
    ({ tokenUrl }) =>
      Effect.gen(function*() {
        const fake = tokenEndpoint()
        const entries: Array<readonly [string, string]> = [
          ["TEXTREVEAL_USERNAME", apiKey],
          ["TEXTREVEAL_PASSWORD", apiSecret]
        ]
        if (tokenUrl !== undefined) entries.push(["TEXTREVEAL_TOKEN_URL", tokenUrl])
        yield* Effect.gen(function*() {
          const credentials = yield* Credentials.Credentials
          assert.isTrue(credentials.renewable)
          assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
        }).pipe(Effect.provide(fromEnv(entries, fake)))
        assert.strictEqual(fake.sent.length, 1)
        assert.strictEqual(fake.sent[0]!.url, tokenUrl ?? "https://login.textreveal.com/oauth/token")
        assert.deepStrictEqual(fake.sent[0]!.body, {
          grant_type: "password",
          username: apiKey,
          password: apiSecret,
          audience: "https://api.textreveal.com/",
          client_id: "2vlZbytm6YvS48bl0lH3Dcjxq87iXX4w"
        })
      })
  )

  it.effect.each([
    { case: "nothing set", entries: [] },
    { case: "only TEXTREVEAL_USERNAME", entries: [["TEXTREVEAL_USERNAME", apiKey] as const] }
  ])("$case: a ConfigError naming the variables to set", ({ entries }) =>
    Effect.gen(function*() {
      const fake = tokenEndpoint()
      const error = yield* Effect.flip(Layer.build(fromEnv(entries, fake)).pipe(Effect.scoped))
      assert.isTrue(ConfigError.isConfigError(error))
      const text = String(error)
      assert.include(text, "TEXTREVEAL_TOKEN")
      assert.include(text, "TEXTREVEAL_USERNAME")
      assert.include(text, "TEXTREVEAL_PASSWORD")
      assertNothingPrinted("the ConfigError", error, [apiKey])
      assert.strictEqual(fake.sent.length, 0)
    }))
})

// ---- a simulated day against the sandbox

describe("a simulated day against the sandbox", () => {
  const withSandboxClient = (options: Sandbox.Options) => <A, E, R>(effect: Effect.Effect<A, E, R>) => {
    const client = Layer.unwrapEffect(
      Effect.map(Sandbox.Sandbox, (sandbox) =>
        TextRevealClient.layer({ baseUrl: sandbox.baseUrl }).pipe(
          Layer.provide(Credentials.layerPassword({
            username: sandbox.username,
            password: sandbox.password,
            tokenUrl: sandbox.tokenUrl
          }))
        ))
    )
    return effect.pipe(
      Effect.provide(
        client.pipe(Layer.provideMerge(FetchHttpClient.layer), Layer.provideMerge(Sandbox.layer(options)))
      ),
      Logger.withMinimumLogLevel(LogLevel.Error)
    )
  }

  /** Calls the API every `every` for `calls` calls; any failed call fails the test. */
  const useFor = (calls: number, every: Duration.DurationInput, before?: (i: number) => Effect.Effect<void>) =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const client = yield* TextRevealClient.TextRevealClient
      const id = yield* sandbox.createTask({ files: [{ rows: 1 }] })
      for (let i = 0; i < calls; i++) {
        if (before) yield* before(i)
        const urls = yield* client.getDownloadUrls(id)
        assert.strictEqual(urls.length, 1)
        yield* TestClock.adjust(every)
      }
      return yield* sandbox.requests
    })

  it.effect("10-minute tokens, a call every 5 minutes for 24 h: 288 calls succeed, no token rejected", () =>
    Effect.gen(function*() {
      const requests = yield* useFor(288, "5 minutes")
      const downloads = requests.filter((r) => r.route === "download")
      assert.strictEqual(downloads.length, 288)
      assert.deepStrictEqual(downloads.filter((r) => r.status !== 200), [])
      // A token is renewed 1 minute (10%) before its end, at 9 minutes: each one serves the call at which it
      // is obtained and the next, 5 minutes later; the call after that, at 10 minutes, renews it.
      const tokens = requests.filter((r) => r.route === "token")
      assert.strictEqual(tokens.length, 144)
      assert.isTrue(tokens.every((r) => r.status === 200))
    }).pipe(withSandboxClient({ tokenLifetime: "10 minutes" })))

  it.effect("10-minute tokens, a call every minute for 3 h: a new token every 9 minutes", () =>
    Effect.gen(function*() {
      const requests = yield* useFor(180, "1 minute")
      assert.deepStrictEqual(requests.filter((r) => r.route === "download" && r.status !== 200), [])
      assert.strictEqual(requests.filter((r) => r.route === "token").length, 180 / 9)
    }).pipe(withSandboxClient({ tokenLifetime: "10 minutes" })))

  it.effect.each([401, 403] as const)(
    "tokens expired by the sandbox mid-day (answered %s): the next call renews, repeats once and succeeds",
    (rejectedTokenStatus) =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        // Call 145 (12h05) would reuse the token obtained at call 144 (12h00): expire it just before.
        const requests = yield* useFor(288, "5 minutes", (i) => i === 145 ? sandbox.expireTokens : Effect.void)
        const api = requests.filter((r) => r.route !== "token")
        assert.strictEqual(api.length, 289)
        const rejected = requests.flatMap((r, i) => r.route === "download" && r.status !== 200 ? [i] : [])
        assert.strictEqual(rejected.length, 1)
        const at = rejected[0]!
        assert.strictEqual(requests[at]!.status, rejectedTokenStatus)
        assert.deepStrictEqual(
          requests.slice(at, at + 3).map((r) => `${r.route} ${r.status}`),
          [`download ${rejectedTokenStatus}`, "token 200", "download 200"]
        )
      }).pipe(withSandboxClient({ tokenLifetime: "10 minutes", rejectedTokenStatus }))
  )
})
