import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import type { TextRevealClient } from "effect-textreveal"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Inspectable from "effect/Inspectable"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Tracer from "effect/Tracer"
import { inspect } from "node:util"
import {
  apiError,
  assertNoSecret,
  authorizations,
  captureLogs,
  type FakeApi,
  fakeApi,
  getDownloadUrls,
  json,
  ok,
  type Reply,
  runFor,
  taskId,
  text,
  token,
  tooMany,
  transport
} from "./fixtures/fakeApi.js"

/** A tracer that records every span it starts, delegating to the current (native) one. */
const recordingTracer = Effect.map(Effect.tracer, (native) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = native.span(name, parent, context, links, startTime, kind, options)
      spans.push(span)
      return span
    },
    context: (f, fiber) => native.context(f, fiber)
  })
  return { spans, tracer } as const
})

/** Every way an error can end up printed. */
const renderings = (error: unknown, cause: Cause.Cause<unknown>): Record<string, string> => ({
  "String(error)": String(error),
  "error.message": (error as { readonly message?: unknown }).message as string,
  "JSON.stringify(error)": JSON.stringify(error),
  "Inspectable.format(error)": Inspectable.format(error),
  "util.inspect(error)": inspect(error, { depth: Infinity }),
  "util.inspect(error) without custom inspectors": inspect(error, { depth: Infinity, customInspect: false }),
  "Cause.pretty": Cause.pretty(cause, { renderErrorCause: true })
})

interface Scenario {
  readonly name: string
  readonly tag: string
  readonly replies: readonly [Reply, ...Array<Reply>]
  readonly options?: TextRevealClient.Options
  readonly id?: string
}

const scenarios: ReadonlyArray<Scenario> = [
  { name: "Invalid (local task id check)", tag: "Invalid", replies: [ok()], id: "not-a-uuid" },
  {
    name: "Invalid (400)",
    tag: "Invalid",
    replies: [apiError(400, "invalid", "bad", {}, { errors: [{ message: "m", field: "size", reason: "r" }] })]
  },
  { name: "Unauthorized", tag: "Unauthorized", replies: [apiError(401, "unauthorized", "invalid API key")] },
  { name: "Forbidden", tag: "Forbidden", replies: [apiError(403, "forbidden", "Not authorized")] },
  { name: "NotFound", tag: "NotFound", replies: [text(404, "")] },
  { name: "TooManyRequests", tag: "TooManyRequests", replies: [tooMany("1")], options: { retry: { times: 1 } } },
  { name: "ServerError (HTML 502)", tag: "ServerError", replies: [text(502, "<h1>502 Bad Gateway</h1>")] },
  {
    name: "ServerError (a proxy page echoing the request headers)",
    tag: "ServerError",
    replies: [text(502, `<h1>502</h1><pre>Authorization: Bearer ${token}</pre>`)],
    options: { transientRetry: false }
  },
  {
    name: "Unauthorized (an HTML 401 page echoing the token upper-cased)",
    tag: "Unauthorized",
    replies: [text(401, `<html><body><h1>401</h1><p>BEARER ${token.toUpperCase()} IS NOT VALID</p></body></html>`)]
  },
  {
    name: "ServerError (a JSON message echoing the token upper-cased)",
    tag: "ServerError",
    replies: [apiError(503, "internal", `upstream refused Bearer ${token.toUpperCase()}`)],
    options: { transientRetry: false }
  },
  {
    name: "Invalid (a JSON message echoing the token)",
    tag: "Invalid",
    replies: [apiError(400, "invalid", `bad token ${token}`)]
  },
  { name: "ResponseError StatusCode (418)", tag: "ResponseError", replies: [apiError(418, "teapot", "teapot")] },
  { name: "ResponseError Decode (relative URL)", tag: "ResponseError", replies: [ok("/a.csv")] },
  { name: "ResponseError Decode (non-JSON 200)", tag: "ResponseError", replies: [text(200, "<html></html>")] },
  { name: "ResponseError Decode (object 200)", tag: "ResponseError", replies: [json(200, { urls: [] })] },
  { name: "RequestError Transport", tag: "RequestError", replies: [transport] }
]

/** Runs a failing call with every log line captured, and returns the error with its cause. */
const failWith = (api: FakeApi, scenario: Scenario) =>
  Effect.gen(function*() {
    const capture = captureLogs()
    const exit = yield* runFor(
      getDownloadUrls(api, scenario.options, undefined, scenario.id).pipe(
        Effect.provide(capture.layer),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
    )
    if (Exit.isSuccess(exit)) return assert.fail("expected a failure")
    const error = Cause.squash(exit.cause)
    return { error, cause: exit.cause, logs: capture.logs }
  })

describe("the token is never printed", () => {
  it.effect("control: an unredacted platform error would print it", () =>
    Effect.sync(() => {
      const request = HttpClientRequest.get("https://api.textreveal.com/v3/tasks").pipe(
        HttpClientRequest.bearerToken(token)
      )
      const response = HttpClientResponse.fromWeb(request, new Response(null, { status: 418 }))
      const error = new HttpClientError.ResponseError({ request, response, reason: "StatusCode" })
      const leaks = Object.entries(renderings(error, Cause.fail(error))).filter(([, printed]) =>
        printed.includes(token)
      )
      assert.isNotEmpty(leaks)
    }))

  it.effect.each(scenarios)("$name", (scenario) =>
    Effect.gen(function*() {
      const api = fakeApi(...scenario.replies)
      const { cause, error, logs } = yield* failWith(api, scenario)
      assert.strictEqual((error as { readonly _tag?: unknown })._tag, scenario.tag)
      assert.isTrue(Cause.isFailType(cause) || Cause.failureOption(cause)._tag === "Some", Cause.pretty(cause))
      // Control: the token did go out (except for the local check), so its absence below is redaction.
      if (scenario.id === undefined) assert.strictEqual(authorizations(api)[0], `Bearer ${token}`)
      for (const [how, printed] of Object.entries(renderings(error, cause))) assertNoSecret(how, printed, [token])
      for (const log of logs) assertNoSecret(`log: ${log.line}`, log.line, [token])
      if (scenario.tag === "RequestError" || scenario.tag === "ResponseError") {
        const platformError = error as { readonly request: { readonly headers: Record<string, unknown> } }
        assert.isUndefined(platformError.request.headers["authorization"])
      }
    }))

  it.effect("logs of a retried call, at every level, do not contain the token", () =>
    Effect.gen(function*() {
      const capture = captureLogs()
      const api = fakeApi(tooMany(), text(503, ""), transport, apiError(401, "unauthorized", "no"))
      yield* runFor(getDownloadUrls(api).pipe(Effect.provide(capture.layer), Logger.withMinimumLogLevel(LogLevel.All)))
      assert.isAtLeast(capture.logs.length, 3)
      for (const log of capture.logs) {
        assertNoSecret("a log line", log.line, [token])
        assertNoSecret("log annotations", JSON.stringify(log.annotations), [token])
      }
    }))

  it.effect("spans carry task id, status and attempts, but not the token", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      const api = fakeApi(text(503, ""), ok())
      const exit = yield* runFor(getDownloadUrls(api).pipe(Effect.withTracer(tracer)))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      const call = spans.find((span) => span.name === "TextRevealClient.getDownloadUrls")
      assert.isDefined(call)
      assert.strictEqual(call?.attributes.get("textreveal.task_id"), taskId)
      assert.strictEqual(call?.attributes.get("http.response.status_code"), 200)
      assert.strictEqual(call?.attributes.get("textreveal.attempts"), 2)
      // The platform's own `http.client` span would keep the request, token included, in its exit.
      assert.deepStrictEqual(spans.map((span) => span.name), ["TextRevealClient.getDownloadUrls"])
      for (const span of spans) {
        for (const [key, value] of span.attributes) {
          assertNoSecret(`${span.name} ${key}`, Inspectable.format(value), [token])
          assertNoSecret(`${span.name} ${key}`, String(value), [token])
        }
      }
    }))

  it.effect.each<{ readonly name: string; readonly reply: Reply }>([
    { name: "a 401 echoing the token", reply: apiError(401, "unauthorized", `token ${token} expired`) },
    { name: "a 401 page echoing it upper-cased", reply: text(401, `<p>BEARER ${token.toUpperCase()}</p>`) },
    { name: "a 418 echoing it in a header", reply: apiError(418, "teapot", "no", { "x-echo": `Bearer ${token}` }) },
    { name: "a 200 of the wrong shape holding it", reply: json(200, { token }) },
    { name: "a dropped connection", reply: transport }
  ])("span exits of a failed call hold no secret: $name", ({ reply }) =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* recordingTracer
      const api = fakeApi(reply)
      const exit = yield* runFor(getDownloadUrls(api, { transientRetry: false }).pipe(Effect.withTracer(tracer)))
      assert.isTrue(Exit.isFailure(exit))
      assert.isAtLeast(spans.length, 1)
      for (const span of spans) {
        assert.strictEqual(span.status._tag, "Ended")
        if (span.status._tag !== "Ended") continue
        const rendered = [Inspectable.format(span.status.exit), JSON.stringify(span.status.exit)]
        if (Exit.isFailure(span.status.exit)) rendered.push(Cause.pretty(span.status.exit.cause))
        for (const text of rendered) assertNoSecret(span.name, text, [token])
      }
    }))
})

/** Every character as a `\\uXXXX` escape. */
const uEscape = (text: string) => [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")

/** Every other letter upper-cased. */
const mixedCase = (text: string) => [...text].map((c, i) => i % 2 === 0 ? c.toUpperCase() : c).join("")

describe("errors keep no headers, no query and no echoed secret", () => {
  /** The error of a call against one reply, with no retry. */
  const errorOf = (reply: Reply) =>
    Effect.map(runFor(getDownloadUrls(fakeApi(reply), { retry: false, transientRetry: false })), (exit) => {
      if (Exit.isSuccess(exit)) return assert.fail("expected a failure")
      return { error: Cause.squash(exit.cause), cause: exit.cause }
    })

  const assertClean = (error: unknown, cause: Cause.Cause<unknown>, secrets: ReadonlyArray<string>) => {
    for (const [how, text] of Object.entries(renderings(error, cause))) assertNoSecret(how, text, secrets)
  }

  it.effect("a response header echoing Authorization is not kept; only the allow-listed headers are", () =>
    Effect.gen(function*() {
      const { cause, error } = yield* errorOf(
        apiError(418, "teapot", "no", {
          "x-echo-authorization": `Bearer ${token}`,
          "set-cookie": `session=${token}`,
          "retry-after": "5",
          "x-request-id": "req-1"
        })
      )
      assert.strictEqual(error instanceof HttpClientError.ResponseError, true)
      if (!(error instanceof HttpClientError.ResponseError)) return
      assert.deepStrictEqual(Object.keys(error.response.headers).sort(), [
        "content-type",
        "retry-after",
        "x-request-id"
      ])
      assert.deepStrictEqual({ ...error.request.headers }, {})
      assertClean(error, cause, [token])
    }))

  it.effect("the URL of a failed request loses its query", () =>
    Effect.gen(function*() {
      const api = fakeApi(apiError(418, "teapot", "no"))
      const exit = yield* runFor(
        getDownloadUrls(api, {
          transformClient: HttpClient.mapRequest(HttpClientRequest.setUrlParam("X-Amz-Signature", "sig-secret-123"))
        })
      )
      assert.include(api.requests[0]?.url ?? "", "X-Amz-Signature=sig-secret-123")
      if (Exit.isSuccess(exit)) return assert.fail("expected a failure")
      const error = Cause.squash(exit.cause)
      assertClean(error, exit.cause, ["sig-secret-123", "X-Amz-Signature"])
    }))

  it.effect.each<{ readonly name: string; readonly reply: Reply }>([
    {
      name: "\\u-escaped in a JSON error body",
      reply: text(
        400,
        JSON.stringify({ message: "bad" }).replace(
          "bad",
          [...`token ${token}`].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")
        ),
        {
          "content-type": "application/json"
        }
      )
    },
    { name: "in a wrong-shaped 200 body", reply: json(200, [{ token }]) },
    { name: "at the start of a non-JSON 200 body", reply: text(200, `${token} is not JSON`) },
    { name: "at the start of a non-JSON error body", reply: text(500, `${token}: upstream failed`) },
    {
      name: "in a field error",
      reply: apiError(400, "invalid", "bad", {}, { errors: [{ message: token, field: token, reason: token }] })
    },
    { name: "as the reason", reply: apiError(400, token, "bad") },
    { name: "upper-cased in a JSON message", reply: apiError(400, "invalid", `bad ${token.toUpperCase()}`) },
    { name: "upper-cased as the reason", reply: apiError(400, token.toUpperCase(), "bad") },
    {
      name: "upper-cased, \\u-escaped",
      reply: text(400, JSON.stringify({ message: "bad" }).replace("bad", uEscape(token.toUpperCase())), {
        "content-type": "application/json"
      })
    },
    {
      name: "mixed case in a field error",
      reply: apiError(400, "invalid", "bad", {}, { errors: [{ message: mixedCase(token), field: "f", reason: "r" }] })
    },
    {
      name: "upper-cased and URL-encoded",
      reply: text(500, `upstream: ${encodeURIComponent(`Bearer ${token.toUpperCase()}`)}`)
    },
    { name: "upper-cased and HTML-escaped", reply: text(500, `<p>&lt;${token.toUpperCase()}&gt;</p>`) }
  ])("a token echoed $name reaches no rendering", ({ reply }) =>
    Effect.gen(function*() {
      const { cause, error } = yield* errorOf(reply)
      assertClean(error, cause, [token])
    }))
})
