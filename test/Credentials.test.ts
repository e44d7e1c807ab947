/**
 * `Credentials`: a fixed token (`layerToken`), the environment (`layerConfig`), and how the client uses
 * either: a rejected token is discarded and, when the credentials can renew it, the call is repeated once.
 * The password grant itself is specified in `Credentials.password.test.ts`.
 *
 * Unit tests fake the API and the token endpoint at the `HttpClient` seam; the last part runs the client
 * over sockets against the sandbox for a simulated day, its clock being the test's `TestClock`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/sandbox"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import {
  apiError,
  assertNothingPrinted,
  authorizations,
  captureLogs,
  failureOf,
  type FakeApi,
  fakeApi,
  fakeCredentials,
  fakeHttp,
  fileUrl,
  getDownloadUrls,
  json,
  ok,
  runFor,
  taskId,
  token,
  transport
} from "./fixtures/fakeApi.js"
import {
  apiKey,
  apiSecret,
  bodyOf,
  captureSpans,
  documentedGrant,
  fakePeer,
  issued,
  tokenEndpoint,
  tokenOf
} from "./fixtures/tokenEndpoint.js"

const unauthorized = apiError(401, "unauthorized", "invalid username or API key")
const forbidden = apiError(403, "forbidden", "Not authorized to access this resource")
const unavailable = apiError(503, "internal", "Service unavailable")

const getUrls = Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId))

describe("Credentials.layerToken", () => {
  it.effect("hands out the token as given, Redacted: never renewable, never fresh, never discarded", () =>
    Effect.gen(function*() {
      const credentials = yield* Effect.provide(Credentials.Credentials, Credentials.layerToken(Redacted.make(token)))
      assert.isFalse(credentials.renewable)
      const first = yield* credentials.get
      assert.strictEqual(tokenOf(first), token)
      assert.isFalse(first.fresh)
      yield* credentials.invalidate(first.token)
      assert.strictEqual(tokenOf(yield* credentials.get), token)
      assertNothingPrinted("the access token", first, [token])
    }))

  it.effect.each([
    { case: "empty", value: "", op: "MissingData" },
    { case: "undefined (an unset variable)", value: undefined, op: "MissingData" },
    { case: "with a space", value: "tr-9d2e 41b7", op: "InvalidData" },
    { case: "with a line break", value: "tr-9d2e\n41b7", op: "InvalidData" },
    { case: "ending with CRLF", value: "tr-9d2e41b7\r\n", op: "InvalidData" },
    { case: "with a tab", value: "tr-9d2e\t41b7", op: "InvalidData" },
    { case: "non-ASCII", value: "tr-9d2e41b7é", op: "InvalidData" }
  ])(
    "a token $case fails the layer with a ConfigError ($op) that does not print it",
    ({ op, value }) =>
      Effect.gen(function*() {
        // `Redacted.make(process.env.TEXTREVEAL_TOKEN!)` with the variable unset holds `undefined`.
        const error = yield* Effect.flip(Layer.build(Credentials.layerToken(Redacted.make(value as string))))
        assert.isTrue(ConfigError.isConfigError(error))
        assert.strictEqual(error._op, op)
        assert.deepStrictEqual(error._op === "MissingData" || error._op === "InvalidData" ? error.path : [], ["token"])
        assertNothingPrinted("the ConfigError", error, ["9d2e", "41b7"])
      }).pipe(Effect.scoped)
  )

  it.effect("the client cannot be built on a token that cannot be sent: nothing is sent", () =>
    Effect.gen(function*() {
      const api = fakeApi(ok())
      const exit = yield* Effect.exit(
        getDownloadUrls(api, {}, Credentials.layerToken(Redacted.make("tr\r\nX-Injected: 1")))
      )
      assert.isTrue(ConfigError.isConfigError(failureOf(exit)))
      assert.strictEqual(api.requests.length, 0)
    }))

  it.effect("the client sends it as a bearer token; a 401 fails with Unauthorized after one request", () =>
    Effect.gen(function*() {
      const api = fakeApi(unauthorized, ok())
      const error = failureOf(yield* runFor(getDownloadUrls(api)))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.deepStrictEqual(authorizations(api), [`Bearer ${token}`])
    }))
})

describe("TextRevealClient: a rejected token is discarded", () => {
  it.effect.each([
    { status: 401, reply: unauthorized, tag: "Unauthorized" },
    { status: 403, reply: forbidden, tag: "Forbidden" }
  ])("$status invalidates the token; not renewable, so not repeated", ({ reply, tag }) =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: false })
      const api = fakeApi(reply, ok())
      const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
      assert.strictEqual(error._tag, tag)
      assert.deepStrictEqual(credentials.invalidated, ["tok-1"])
      assert.strictEqual(api.requests.length, 1)
    }))

  it.effect.each([400, 404, 429, 500])("%d does not invalidate the token", (status) =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true })
      const api = fakeApi(apiError(status, "x", "x"))
      const error = failureOf(
        yield* runFor(getDownloadUrls(api, { retry: false, transientRetry: false }, credentials.layer))
      )
      assert.strictEqual("status" in error ? error.status : undefined, status)
      assert.deepStrictEqual(credentials.invalidated, [])
      assert.strictEqual(api.requests.length, 1)
    }))
})

describe("TextRevealClient: renewable credentials renew a rejected token once per call", () => {
  it.effect("401: invalidates, then repeats once with the new token", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true })
      const api = fakeApi(unauthorized, ok())
      const exit = yield* runFor(getDownloadUrls(api, {}, credentials.layer))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      assert.deepStrictEqual(credentials.invalidated, ["tok-1"])
      assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2"])
    }))

  it.effect("the repeat counts as an attempt of the call", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true })
      const api = fakeApi(unauthorized, apiError(500, "internal", "Internal error"))
      const error = failureOf(yield* runFor(getDownloadUrls(api, { transientRetry: false }, credentials.layer)))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(error._tag === "ServerError" ? error.attempts : 0, 2)
    }))

  it.effect("the repeat counts toward maxAttempts: with 2, a 503 after the renewal is not retried", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true })
      const api = fakeApi(unauthorized, unavailable, ok())
      const error = failureOf(yield* runFor(getDownloadUrls(api, { maxAttempts: 2 }, credentials.layer)))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(api.requests.length, 2)
    }))

  it.effect("a second 401 is returned", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true })
      const api = fakeApi(unauthorized, unauthorized, ok())
      const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2"])
      assert.deepStrictEqual(credentials.invalidated, ["tok-1", "tok-2"])
    }))

  it.effect("a 401 on a fresh token is repeated too", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true, fresh: [true, true] })
      const api = fakeApi(unauthorized, ok())
      const exit = yield* runFor(getDownloadUrls(api, {}, credentials.layer))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2"])
    }))

  it.effect("403 on a fresh token: a real refusal, not repeated", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true, fresh: [true] })
      const api = fakeApi(forbidden, ok())
      const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
      assert.strictEqual(error._tag, "Forbidden")
      assert.strictEqual(api.requests.length, 1)
    }))

  it.effect("403 on a token from memory (fresh: false): repeated once with a new token", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true, fresh: [false, true] })
      const api = fakeApi(forbidden, ok())
      const exit = yield* runFor(getDownloadUrls(api, {}, credentials.layer))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2"])
      assert.deepStrictEqual(credentials.invalidated, ["tok-1"])
    }))

  it.effect("403 then 403 on the renewed token is returned after one repeat", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true })
      const api = fakeApi(forbidden)
      const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
      assert.strictEqual(error._tag, "Forbidden")
      assert.strictEqual(api.requests.length, 2)
    }))

  it.effect("at most one renewal per call, even when a 429 retry comes between", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true })
      const api = fakeApi(
        unauthorized,
        apiError(429, "too_many_requests", "slow down", { "retry-after": "1" }),
        unauthorized,
        ok()
      )
      const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual(api.requests.length, 3)
    }))

  it.effect("each call may renew once", () =>
    Effect.gen(function*() {
      const credentials = fakeCredentials({ renewable: true })
      const api = fakeApi(unauthorized, ok(), unauthorized, ok())
      const client = yield* Effect.provide(
        TextRevealClient.TextRevealClient,
        TextRevealClient.layer().pipe(Layer.provide([api.layer, credentials.layer]))
      )
      yield* runFor(client.getDownloadUrls(taskId))
      const exit = yield* runFor(client.getDownloadUrls(taskId))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2", "Bearer tok-3"])
    }))
})

describe("TextRevealClient with Credentials.layerPassword", () => {
  /** The client with password credentials, both over the fake peer's `HttpClient`. */
  const clientOn = (http: FakeApi, options: TextRevealClient.Options = {}) =>
    TextRevealClient.layer(options).pipe(
      Layer.provide(Credentials.layerPassword({ username: apiKey, password: apiSecret })),
      Layer.provide(http.layer)
    )

  it.effect("a 401: the token is discarded, a new one obtained and the call repeated once", () =>
    Effect.gen(function*() {
      const peer = fakePeer(unauthorized, ok(fileUrl("a.csv")))
      const urls = yield* Effect.provide(getUrls, clientOn(peer.http))
      assert.strictEqual(urls.length, 1)
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("a 401 on a cached token, in a later call: renewed and repeated, and the new token is kept", () =>
    Effect.gen(function*() {
      const peer = fakePeer(ok(fileUrl("a.csv")), unauthorized, ok(fileUrl("a.csv")))
      yield* Effect.provide(Effect.repeatN(getUrls, 2), clientOn(peer.http))
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("a second 401: Unauthorized, after exactly 2 API and 2 token requests", () =>
    Effect.gen(function*() {
      const peer = fakePeer(unauthorized, unauthorized, ok(fileUrl("a.csv")))
      const error = yield* Effect.flip(Effect.provide(getUrls, clientOn(peer.http)))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("a 403 on a token obtained for this call is a real refusal: Forbidden, not repeated", () =>
    Effect.gen(function*() {
      const peer = fakePeer(forbidden, ok(fileUrl("a.csv")))
      const error = yield* Effect.flip(Effect.provide(getUrls, clientOn(peer.http)))
      assert.strictEqual(error._tag, "Forbidden")
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1"])
      assert.strictEqual(peer.tokenRequests(), 1)
    }))

  it.effect("a 403 on an older (cached) token: renewed and repeated once", () =>
    Effect.gen(function*() {
      const peer = fakePeer(ok(fileUrl("a.csv")), forbidden, ok(fileUrl("a.csv")))
      const urls = yield* Effect.provide(Effect.zipRight(getUrls, getUrls), clientOn(peer.http))
      assert.strictEqual(urls.length, 1)
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("a 403 on a cached token, then a 403 on the new one: Forbidden, repeated only once", () =>
    Effect.gen(function*() {
      const peer = fakePeer(ok(fileUrl("a.csv")), forbidden, forbidden, ok(fileUrl("a.csv")))
      const error = yield* Effect.provide(Effect.zipRight(getUrls, Effect.flip(getUrls)), clientOn(peer.http))
      assert.strictEqual(error._tag, "Forbidden")
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"])
      assert.strictEqual(peer.tokenRequests(), 2)
    }))

  it.effect("the repeat after a renewal counts toward maxAttempts", () =>
    Effect.gen(function*() {
      const peer = fakePeer(unauthorized, unavailable, ok(fileUrl("a.csv")))
      const error = failureOf(yield* runFor(Effect.provide(getUrls, clientOn(peer.http, { maxAttempts: 2 }))))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(error._tag === "ServerError" ? error.attempts : 0, 2)
      assert.deepStrictEqual(peer.authorizations(), ["Bearer tok-1", "Bearer tok-2"])
    }))

  it.effect.each([
    { status: 400, body: { error: "invalid_request", error_description: "Missing parameter: audience." } },
    { status: 401, body: { error: "access_denied", error_description: "Unauthorized client." } },
    { status: 403, body: { error: "invalid_grant", error_description: "Wrong email or password." } }
  ])(
    "credentials refused with $status: Unauthorized carrying $status; the API is never called",
    ({ body, status }) =>
      Effect.gen(function*() {
        const http = fakeHttp((request) =>
          Effect.succeed(request.url === Credentials.defaultTokenUrl ? json(status, body) : ok(fileUrl("a.csv")))
        )
        const exit = yield* Effect.exit(Effect.provide(getUrls, clientOn(http)))
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "Unauthorized")
        assert.strictEqual(error._tag === "Unauthorized" ? error.status : 0, status)
        assert.include(error.message, body.error_description)
        assert.deepStrictEqual(http.requests.map((r) => r.url), [Credentials.defaultTokenUrl])
        assertNothingPrinted("Unauthorized", exit, [apiKey, apiSecret])
      })
  )

  it.effect("the renewal and the token request's retries are logged with their reason; no line prints a secret", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      // 1 token (tok-1), 2 API 401, 3 token (transport failure, retried), 4 token (tok-2), 5 API 200.
      let tokens = 0
      const http = fakeHttp((request, n) =>
        Effect.sync(() =>
          request.url === Credentials.defaultTokenUrl
            ? (n === 3 ? transport : issued(++tokens))
            : request.headers["authorization"] === "Bearer tok-1"
            ? unauthorized
            : ok(fileUrl("a.csv"))
        )
      )
      const exit = yield* runFor(
        getUrls.pipe(
          Effect.provide(clientOn(http)),
          Effect.provide(logs.layer),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
      )
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      assert.strictEqual(http.requests.length, 5)
      assert.deepStrictEqual(
        logs.logs.map((log) => [log.level, log.message, log.annotations["reason"], log.annotations["status"]]),
        [
          ["WARN", ["TextReveal request failed, retrying"], "renewal", 401],
          ["WARN", ["TextReveal request failed, retrying"], "transient", "transport"]
        ]
      )
      for (const log of logs.logs) assertNothingPrinted("a log line", log, [apiKey, apiSecret, "tok-1", "tok-2"])
    }))

  it.effect("spans: the call and the token requests are traced, the platform's http.client is not; none holds a secret", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* captureSpans
      const peer = fakePeer(unauthorized, ok(fileUrl("a.csv")))
      const exit = yield* runFor(Effect.provide(getUrls, clientOn(peer.http)).pipe(Effect.withTracer(tracer)))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      assert.deepStrictEqual(spans.map((span) => span.name).sort(), [
        "Credentials.requestToken",
        "Credentials.requestToken",
        "TextRevealClient.getDownloadUrls"
      ])
      for (const span of spans) {
        assertNothingPrinted(`the span ${span.name}`, span.attributes, [apiKey, apiSecret, "tok-1", "tok-2"])
        assert.strictEqual(span.status._tag, "Ended")
        if (span.status._tag === "Ended") {
          assertNothingPrinted(`the exit of ${span.name}`, span.status.exit, [apiKey, apiSecret, "tok-1", "tok-2"])
        }
      }
    }))
})

describe("Credentials.layerConfig", () => {
  const fromEnv = (entries: ReadonlyArray<readonly [string, string]>, http: FakeApi) =>
    Credentials.layerConfig.pipe(
      Layer.provide(http.layer),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries))))
    )

  /** The service, built in the test's scope. */
  const credentialsFrom = (entries: ReadonlyArray<readonly [string, string]>, http: FakeApi) =>
    Effect.map(Layer.build(fromEnv(entries, http)), Context.get(Credentials.Credentials))

  const configErrorFrom = (entries: ReadonlyArray<readonly [string, string]>, http: FakeApi) =>
    Effect.flip(Effect.scoped(Layer.build(fromEnv(entries, http))))

  it.scoped("TEXTREVEAL_TOKEN: a fixed token, sent as is, never renewed; it wins over a username and password", () =>
    Effect.gen(function*() {
      const api = fakeApi(ok(fileUrl("a.csv")))
      const entries = [
        ["TEXTREVEAL_TOKEN", token],
        ["TEXTREVEAL_USERNAME", apiKey],
        ["TEXTREVEAL_PASSWORD", apiSecret]
      ] as const
      const credentials = yield* credentialsFrom(entries, api)
      assert.isFalse(credentials.renewable)
      const access = yield* credentials.get
      assert.strictEqual(tokenOf(access), token)
      assertNothingPrinted("the access token", access, [token])
      yield* getDownloadUrls(api, {}, fromEnv(entries, api))
      assert.deepStrictEqual(api.requests.map((r) => `${r.request.method} ${r.url}`), [
        `GET https://api.textreveal.com/v3/tasks/${taskId}/download`
      ])
      assert.deepStrictEqual(authorizations(api), [`Bearer ${token}`])
    }))

  it.scoped("an empty TEXTREVEAL_TOKEN counts as unset: the username and password are used", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const credentials = yield* credentialsFrom([
        ["TEXTREVEAL_TOKEN", ""],
        ["TEXTREVEAL_USERNAME", apiKey],
        ["TEXTREVEAL_PASSWORD", apiSecret]
      ], endpoint)
      assert.isTrue(credentials.renewable)
      assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
      assert.strictEqual(endpoint.requests.length, 1)
    }))

  it.scoped.each([
    { case: "with TEXTREVEAL_TOKEN_URL", tokenUrl: "https://auth.example.com/oauth/token" },
    { case: "without TEXTREVEAL_TOKEN_URL", tokenUrl: undefined }
  ])(
    "TEXTREVEAL_USERNAME and TEXTREVEAL_PASSWORD ($case): the password grant",
    ({ tokenUrl }) =>
      Effect.gen(function*() {
        const endpoint = tokenEndpoint()
        const entries: Array<readonly [string, string]> = [
          ["TEXTREVEAL_USERNAME", apiKey],
          ["TEXTREVEAL_PASSWORD", apiSecret]
        ]
        if (tokenUrl !== undefined) entries.push(["TEXTREVEAL_TOKEN_URL", tokenUrl])
        const credentials = yield* credentialsFrom(entries, endpoint)
        assert.isTrue(credentials.renewable)
        assert.strictEqual(tokenOf(yield* credentials.get), "tok-1")
        assert.deepStrictEqual(endpoint.requests.map((r) => r.url), [tokenUrl ?? Credentials.defaultTokenUrl])
        assert.deepStrictEqual(bodyOf(endpoint.requests[0]!.request), documentedGrant)
      })
  )

  it.effect("nothing set: a ConfigError naming the variables to set", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const error = yield* configErrorFrom([], endpoint)
      assert.isTrue(ConfigError.isMissingDataOnly(error))
      assert.include(
        String(error),
        "No TextReveal credentials: set TEXTREVEAL_TOKEN, or TEXTREVEAL_USERNAME and TEXTREVEAL_PASSWORD"
      )
      assert.strictEqual(endpoint.requests.length, 0)
    }))

  it.effect.each(
    [
      {
        case: "only TEXTREVEAL_USERNAME",
        entries: [["TEXTREVEAL_USERNAME", apiKey]],
        missing: "TEXTREVEAL_PASSWORD",
        set: "TEXTREVEAL_USERNAME"
      },
      {
        case: "only TEXTREVEAL_PASSWORD",
        entries: [["TEXTREVEAL_PASSWORD", apiSecret]],
        missing: "TEXTREVEAL_USERNAME",
        set: "TEXTREVEAL_PASSWORD"
      },
      {
        case: "TEXTREVEAL_PASSWORD empty",
        entries: [["TEXTREVEAL_USERNAME", apiKey], ["TEXTREVEAL_PASSWORD", ""]],
        missing: "TEXTREVEAL_PASSWORD",
        set: "TEXTREVEAL_USERNAME"
      },
      {
        case: "TEXTREVEAL_USERNAME empty, a token empty",
        entries: [["TEXTREVEAL_TOKEN", ""], ["TEXTREVEAL_USERNAME", ""], ["TEXTREVEAL_PASSWORD", apiSecret]],
        missing: "TEXTREVEAL_USERNAME",
        set: "TEXTREVEAL_PASSWORD"
      }
    ] as const
  )("$case: a ConfigError naming $missing, printing no secret", ({ entries, missing, set }) =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const error = yield* configErrorFrom(entries, endpoint)
      assert.isTrue(ConfigError.isMissingDataOnly(error))
      assert.include(String(error), `${missing} is not set (${set} is)`)
      assertNothingPrinted("the ConfigError", error, [apiKey, apiSecret])
      assert.strictEqual(endpoint.requests.length, 0)
    }))

  it.effect("a TEXTREVEAL_TOKEN that cannot be sent in a header: a ConfigError, not a fallback to the password", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const error = yield* configErrorFrom([
        ["TEXTREVEAL_TOKEN", "tr-9d2e\n41b7"],
        ["TEXTREVEAL_USERNAME", apiKey],
        ["TEXTREVEAL_PASSWORD", apiSecret]
      ], endpoint)
      assert.isTrue(ConfigError.isConfigError(error))
      assert.strictEqual(error._op, "InvalidData")
      assertNothingPrinted("the ConfigError", error, ["9d2e", "41b7", apiKey, apiSecret])
      assert.strictEqual(endpoint.requests.length, 0)
    }))

  it.effect("a TEXTREVEAL_TOKEN_URL that is not a URL: a ConfigError when the layer is built", () =>
    Effect.gen(function*() {
      const endpoint = tokenEndpoint()
      const error = yield* configErrorFrom([
        ["TEXTREVEAL_USERNAME", apiKey],
        ["TEXTREVEAL_PASSWORD", apiSecret],
        ["TEXTREVEAL_TOKEN_URL", "auth.example.com/oauth/token"]
      ], endpoint)
      assert.isTrue(ConfigError.isConfigError(error))
      assert.strictEqual(error._op, "InvalidData")
      assert.include(String(error), "tokenUrl")
      assert.strictEqual(endpoint.requests.length, 0)
    }))
})

// Kept beside Credentials.layerConfig, which it is used with: the base URL from the environment.
describe("TextRevealClient.layerConfig", () => {
  const clientFromConfig = (entries: ReadonlyArray<readonly [string, string]>) => {
    const api = fakeApi(ok())
    const layer = TextRevealClient.layerConfig.pipe(
      Layer.provide([api.layer, Credentials.layerToken(Redacted.make(token))]),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries))))
    )
    return { api, call: Effect.provide(getUrls, layer) }
  }

  it.effect.each([
    "https://sandbox.textreveal.com/v3",
    "https://sandbox.textreveal.com/v3/"
  ])("reads TEXTREVEAL_BASE_URL (%s)", (baseUrl) =>
    Effect.gen(function*() {
      const { api, call } = clientFromConfig([["TEXTREVEAL_BASE_URL", baseUrl]])
      yield* call
      assert.deepStrictEqual(api.requests.map((r) => r.url), [
        `https://sandbox.textreveal.com/v3/tasks/${taskId}/download`
      ])
    }))

  it.effect("defaults to the documented base URL", () =>
    Effect.gen(function*() {
      const { api, call } = clientFromConfig([])
      yield* call
      assert.deepStrictEqual(api.requests.map((r) => r.url), [`https://api.textreveal.com/v3/tasks/${taskId}/download`])
    }))

  it.effect("refuses a TEXTREVEAL_BASE_URL that is not a URL, before any request", () =>
    Effect.gen(function*() {
      const { api, call } = clientFromConfig([["TEXTREVEAL_BASE_URL", "not a url"]])
      const error = yield* Effect.flip(call)
      assert.isTrue(ConfigError.isConfigError(error), String(error))
      assert.strictEqual(api.requests.length, 0)
    }))
})

describe.concurrent("a simulated day against the sandbox", () => {
  const withSandboxClient = (options: Sandbox.ClientOptions) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.provide(effect, Sandbox.layerClient(options).pipe(Layer.provide(FetchHttpClient.layer)))

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

  it.effect("2-hour tokens, a call every hour for 24 h: 24 calls succeed, no token rejected, a token per two calls", () =>
    Effect.gen(function*() {
      const requests = yield* useFor(24, "1 hour")
      const downloads = requests.filter((r) => r.route === "download")
      assert.strictEqual(downloads.length, 24)
      assert.deepStrictEqual(downloads.filter((r) => r.status !== 200), [])
      // A token is renewed 12 minutes (10%) before its end, at 1h48: each one serves the call at which it is
      // obtained and the next, an hour later; the call after that, at 2 hours, renews it.
      const tokens = requests.filter((r) => r.route === "token")
      assert.strictEqual(tokens.length, 12)
      assert.isTrue(tokens.every((r) => r.status === 200))
    }).pipe(withSandboxClient({ tokenLifetime: "2 hours" })))

  it.effect("10-minute tokens, a call every minute for 45 minutes: a new token every 9 minutes", () =>
    Effect.gen(function*() {
      const requests = yield* useFor(45, "1 minute")
      assert.deepStrictEqual(requests.filter((r) => r.route === "download" && r.status !== 200), [])
      assert.deepStrictEqual(
        requests.flatMap((r, i) =>
          r.route === "token" ? [requests.slice(0, i).filter((d) => d.route === "download").length] : []
        ),
        [0, 9, 18, 27, 36]
      )
    }).pipe(withSandboxClient({ tokenLifetime: "10 minutes" })))

  it.effect.each([401, 403] as const)(
    "tokens expired by the sandbox mid-day (answered %s): the next call renews, repeats once and succeeds",
    (rejectedTokenStatus) =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        // Call 13 (13h00) would reuse the token obtained at call 12 (12h00): expire it just before.
        const requests = yield* useFor(24, "1 hour", (i) => i === 13 ? sandbox.expireTokens : Effect.void)
        assert.strictEqual(requests.filter((r) => r.route !== "token").length, 25)
        const rejected = requests.flatMap((r, i) => r.route === "download" && r.status !== 200 ? [i] : [])
        assert.strictEqual(rejected.length, 1)
        const at = rejected[0]!
        assert.deepStrictEqual(
          requests.slice(at - 1, at + 3).map((r) => `${r.route} ${r.status}`),
          ["download 200", `download ${rejectedTokenStatus}`, "token 200", "download 200"]
        )
      }).pipe(withSandboxClient({ tokenLifetime: "2 hours", rejectedTokenStatus }))
  )
})
