import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { Credentials, DownloadUrl, Task, TextRevealClient } from "effect-textreveal"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { readFileSync } from "node:fs"
import {
  apiError,
  captureLogs,
  clientLayer,
  configErrorOf,
  failureOf,
  type FakeApi,
  fakeApi,
  fakeHttp,
  fileUrl,
  getDownloadUrls,
  json,
  ok,
  printed,
  runFor,
  taskId,
  text,
  token,
  tooMany,
  transport
} from "./fixtures/fakeApi.js"

/** Runs `f` with a client wired to the fake API. */
const withClient = <A, E>(
  api: FakeApi,
  f: (client: TextRevealClient.Service) => Effect.Effect<A, E>
) => Effect.flatMap(TextRevealClient.TextRevealClient, f).pipe(Effect.provide(clientLayer(api)))

const packageVersion: unknown = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version

/** A message of the API as an error of `getDownloadUrls` for the test task says it: the call named at the end. */
const named = (message: string, method = "getDownloadUrls") => `${message} (${method} ${taskId})`

/** No retry of any kind: each mapping test sends exactly one request. */
const noRetry: TextRevealClient.Options = { retry: false, transientRetry: false }

describe("TextRevealClient.getDownloadUrls", () => {
  describe("task id validation", () => {
    it.effect.each(["not-a-uuid", "", `${taskId}/../../users`, "f47ac10b-58cc-4372-a567-0e02b2c3d47"])(
      "refuses %j locally with Invalid on task_id",
      (id) =>
        Effect.gen(function*() {
          const api = fakeApi(ok())
          const error = yield* Effect.flip(getDownloadUrls(api, {}, undefined, id))
          assert.strictEqual(error._tag, "Invalid")
          if (error._tag !== "Invalid") return
          assert.strictEqual(error.status, 400)
          assert.deepStrictEqual(error.errors.map((e) => e.field), ["task_id"])
          assert.strictEqual(api.requests.length, 0)
        })
    )
  })

  describe("request", () => {
    it.effect("GETs {default base}/tasks/{id}/download with token, accept and user-agent", () =>
      Effect.gen(function*() {
        const api = fakeApi(ok())
        yield* getDownloadUrls(api)
        assert.strictEqual(api.requests.length, 1)
        const [{ request, url }] = api.requests as [(typeof api.requests)[0]]
        assert.strictEqual(request.method, "GET")
        assert.strictEqual(url, `https://api.textreveal.com/v3/tasks/${taskId}/download`)
        assert.strictEqual(request.headers["authorization"], `Bearer ${token}`)
        assert.strictEqual(request.headers["accept"], "application/json")
        assert.strictEqual(request.headers["user-agent"], `effect-textreveal/${packageVersion}`)
      }))

    it.effect.each([
      "https://sandbox.textreveal.com/v3",
      "https://sandbox.textreveal.com/v3/",
      "https://sandbox.textreveal.com/v3//"
    ])("honours a custom baseUrl %s", (baseUrl) =>
      Effect.gen(function*() {
        const api = fakeApi(ok())
        yield* getDownloadUrls(api, { baseUrl })
        assert.deepStrictEqual(api.requests.map((r) => r.url), [
          `https://sandbox.textreveal.com/v3/tasks/${taskId}/download`
        ])
      }))

    it.effect("sends no trace context (traceparent, b3) to the API", () =>
      Effect.gen(function*() {
        // Control: the same fake, used directly inside a span, does receive trace headers.
        const control = fakeApi(ok())
        yield* Effect.flatMap(HttpClient.HttpClient, (client) => client.get("https://example.com/")).pipe(
          Effect.provide(control.layer),
          Effect.withSpan("caller")
        )
        assert.isString(control.requests[0]?.request.headers["traceparent"])
        assert.isString(control.requests[0]?.request.headers["b3"])

        const api = fakeApi(ok())
        yield* getDownloadUrls(api).pipe(Effect.withSpan("caller"))
        assert.strictEqual(api.requests.length, 1)
        assert.isUndefined(api.requests[0]?.request.headers["traceparent"])
        assert.isUndefined(api.requests[0]?.request.headers["b3"])
      }))

    it.effect("applies transformClient to every request", () =>
      Effect.gen(function*() {
        const api = fakeApi(ok())
        yield* getDownloadUrls(api, {
          transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-proxy", "on"))
        })
        assert.strictEqual(api.requests[0]?.request.headers["x-proxy"], "on")
      }))
  })

  describe("200 decoding", () => {
    it.effect("returns the URLs in order, with decoded file names, expiring 5 minutes after the response", () =>
      Effect.gen(function*() {
        const start = Date.UTC(2025, 2, 1, 12, 0, 0)
        yield* TestClock.setTime(start)
        const urls = [
          fileUrl("part%201.csv"),
          fileUrl(`${taskId}.csv`),
          "http://files.textreveal.com/b/%C3%A9t%C3%A9.csv"
        ]
        // The response takes 2 seconds to arrive: expiry counts from its arrival, not from the call.
        const api = fakeApi({ ...ok(...urls), latency: "2 seconds" })
        const fiber = yield* Effect.fork(getDownloadUrls(api))
        yield* TestClock.adjust("2 seconds")
        const result = yield* Fiber.join(fiber)
        assert.deepStrictEqual(result.map((d) => d.url), urls)
        assert.deepStrictEqual(result.map((d) => d.fileName), ["part 1.csv", `${taskId}.csv`, "été.csv"])
        const expected = DateTime.unsafeMake(start + 2_000 + 5 * 60_000)
        for (const d of result) {
          assert.instanceOf(d, DownloadUrl.DownloadUrl)
          assert.isTrue(DateTime.Equivalence(d.expiresAt, expected), DateTime.formatIso(d.expiresAt))
        }
        const first = result[0]
        assert.isDefined(first)
        assert.isFalse(first?.isExpiredAt(DateTime.unsafeMake(start + 2_000 + 5 * 60_000 - 1)))
        assert.isTrue(first?.isExpiredAt(expected))
      }))

    it.effect("accepts an empty array", () =>
      Effect.gen(function*() {
        const api = fakeApi(ok())
        assert.deepStrictEqual(yield* getDownloadUrls(api), [])
      }))

    it.effect.each([
      { name: "a relative URL", reply: ok("/exports/task=1/a.csv") },
      { name: "a non-http scheme", reply: ok("ftp://files.textreveal.com/exports/a.csv") },
      { name: "a javascript: URL", reply: ok("javascript:alert(1)") },
      { name: "a non-string item", reply: json(200, [fileUrl("a.csv"), 42]) },
      { name: "an object instead of an array", reply: json(200, { urls: [fileUrl("a.csv")] }) },
      { name: "a bare string", reply: json(200, fileUrl("a.csv")) },
      { name: "null", reply: json(200, null) },
      { name: "a non-JSON body", reply: text(200, "<html><body>maintenance</body></html>") },
      { name: "an empty body", reply: text(200, "") }
    ])(
      "$name in a 200 is a ResponseError Decode, not a defect, and is not retried",
      ({ reply }) =>
        Effect.gen(function*() {
          const api = fakeApi(reply)
          const exit = yield* Effect.exit(getDownloadUrls(api))
          assert.isTrue(Exit.isFailure(exit) && !Cause.isDie(exit.cause), String(exit))
          const error = failureOf(exit)
          assert.strictEqual(error._tag, "ResponseError")
          if (error._tag !== "ResponseError") return
          assert.strictEqual(error.reason, "Decode")
          assert.strictEqual(error.response.status, 200)
          assert.strictEqual(api.requests.length, 1)
        })
    )
  })

  describe("status mapping", () => {
    it.effect("400 is Invalid with its field errors", () =>
      Effect.gen(function*() {
        const fieldError = { message: "Expected number, received string", field: "size", reason: "invalid_type" }
        const api = fakeApi(
          apiError(400, "invalid", "The server returned an unexpected response", {}, { errors: [fieldError] })
        )
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, "Invalid")
        if (error._tag !== "Invalid") return
        assert.strictEqual(error.status, 400)
        assert.strictEqual(error.message, named("The server returned an unexpected response"))
        assert.strictEqual(error.method, "getDownloadUrls")
        assert.strictEqual(error.taskId, taskId)
        assert.strictEqual(error.reason, "invalid")
        assert.deepStrictEqual(error.errors.map((e) => ({ ...e })), [fieldError])
      }))

    it.effect("400 with an undocumented reason keeps the reason as given", () =>
      Effect.gen(function*() {
        const api = fakeApi(apiError(400, "quota_exceeded", "An error occured while processing the task."))
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, "Invalid")
        if (error._tag !== "Invalid") return
        assert.strictEqual(error.reason, "quota_exceeded")
        assert.strictEqual(error.message, named("An error occured while processing the task."))
        assert.deepStrictEqual(error.errors, [])
      }))

    it.effect.each([
      { status: 401, tag: "Unauthorized", reason: "unauthorized", message: "invalid username or API key" },
      { status: 403, tag: "Forbidden", reason: "forbidden", message: "Not authorized to access this resource" },
      { status: 404, tag: "NotFound", reason: "not_found", message: "[record] not found." },
      { status: 429, tag: "TooManyRequests", reason: "too_many_requests", message: "You have too many exports" },
      { status: 500, tag: "ServerError", reason: "internal", message: "Internal error" },
      { status: 502, tag: "ServerError", reason: "internal", message: "Bad gateway" },
      { status: 503, tag: "ServerError", reason: "offline", message: "Unavailable" },
      { status: 504, tag: "ServerError", reason: "timeout", message: "Upstream timeout" }
    ])("$status is $tag", ({ message, reason, status, tag }) =>
      Effect.gen(function*() {
        const api = fakeApi(apiError(status, reason, message))
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, tag)
        if (error._tag === "RequestError" || error._tag === "ResponseError") return assert.fail(error._tag)
        assert.strictEqual(error.status, status)
        assert.strictEqual(error.message, named(message))
        assert.strictEqual(error.method, "getDownloadUrls")
        assert.strictEqual(error.taskId, taskId)
        assert.strictEqual(error.reason, reason)
        assert.isUndefined(error.excerpt)
        assert.strictEqual(api.requests.length, 1)
      }))

    it.effect("an HTML 502 page is a ServerError with a readable message and an excerpt", () =>
      Effect.gen(function*() {
        const page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>" +
          "</center><hr><center>nginx</center></body></html>"
        const api = fakeApi(text(502, page, { "content-type": "text/html" }))
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, "ServerError")
        if (error._tag !== "ServerError") return
        assert.strictEqual(error.status, 502)
        assert.strictEqual(error.reason, "unknown")
        assert.strictEqual(error.attempts, 1)
        assert.include(error.excerpt ?? "", "502 Bad Gateway")
        assert.notInclude(error.excerpt ?? "", "<")
        assert.include(error.message, "502")
        assert.include(error.message, "Bad Gateway")
      }))

    it.effect("a long non-JSON body is cut to a short excerpt", () =>
      Effect.gen(function*() {
        const api = fakeApi(text(503, "overloaded ".repeat(200)))
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, "ServerError")
        if (error._tag !== "ServerError") return
        assert.isString(error.excerpt)
        assert.isAtMost(error.excerpt?.length ?? 0, 201)
        assert.isAtMost(error.message.length, 300)
      }))

    it.effect("an empty error body still gives the class, status and a readable message", () =>
      Effect.gen(function*() {
        const api = fakeApi(text(404, ""))
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, "NotFound")
        if (error._tag !== "NotFound") return
        assert.strictEqual(error.status, 404)
        assert.include(error.message, "404")
      }))

    it.effect.each([
      { status: 400, tag: "Invalid" },
      { status: 401, tag: "Unauthorized" },
      { status: 403, tag: "Forbidden" },
      { status: 404, tag: "NotFound" },
      { status: 429, tag: "TooManyRequests" },
      { status: 500, tag: "ServerError" }
    ])(
      "$status with JSON lacking the documented fields is still $tag, with an excerpt",
      ({ status, tag }) =>
        Effect.gen(function*() {
          const api = fakeApi(json(status, { detail: "boom", code: status }))
          const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
          assert.strictEqual(error._tag, tag)
          if (error._tag === "RequestError" || error._tag === "ResponseError") return assert.fail(error._tag)
          assert.strictEqual(error.status, status)
          assert.strictEqual(error.reason, "unknown")
          assert.include(error.excerpt ?? "", "boom")
          assert.include(error.message, String(status))
          assert.include(error.message, "boom")
        })
    )

    it.effect("a 400 whose errors are malformed keeps message and reason", () =>
      Effect.gen(function*() {
        const api = fakeApi(apiError(400, "invalid", "Bad request", {}, { errors: "size is wrong" }))
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, "Invalid")
        if (error._tag !== "Invalid") return
        assert.strictEqual(error.message, named("Bad request"))
        assert.strictEqual(error.reason, "invalid")
      }))

    it.effect.each([409, 418, 422, 405])(
      "an undocumented status %d is a ResponseError StatusCode",
      (status) =>
        Effect.gen(function*() {
          const api = fakeApi(apiError(status, "conflict", "Conflict"))
          const exit = yield* Effect.exit(getDownloadUrls(api))
          const error = failureOf(exit)
          assert.strictEqual(error._tag, "ResponseError")
          if (error._tag !== "ResponseError") return
          assert.strictEqual(error.reason, "StatusCode")
          assert.strictEqual(error.response.status, status)
          assert.strictEqual(api.requests.length, 1)
        })
    )

    it.effect("a transport failure is a RequestError Transport", () =>
      Effect.gen(function*() {
        const api = fakeApi(transport)
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, "RequestError")
        if (error._tag !== "RequestError") return
        assert.strictEqual(error.reason, "Transport")
        assert.strictEqual(api.requests.length, 1)
      }))

    it.effect("a 429 carries its Retry-After and attempts", () =>
      Effect.gen(function*() {
        const api = fakeApi(tooMany("120"))
        const error = yield* Effect.flip(getDownloadUrls(api, noRetry))
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(error.attempts, 1)
        assert.strictEqual(error.retryAfter === undefined ? undefined : Duration.toMillis(error.retryAfter), 120_000)
      }))
  })

  describe("file names are safe to create in a directory", () => {
    it.effect.each([
      ["..%2F..%2F..%2Fhome%2Fu%2F.bashrc", "______home_u_.bashrc"],
      ["%2Fetc%2Fpasswd", "_etc_passwd"],
      ["x%2F..", "x__"],
      [".hidden.csv", "_hidden.csv"],
      ["a%00b%0A.csv", "a_b_.csv"],
      ["C%3A%5Cwin.csv", "C__win.csv"]
    ])("%s → %s", ([segment, expected]) =>
      Effect.gen(function*() {
        const api = fakeApi(ok(`https://files.textreveal.com/exports/task=1/${segment}?sig=1`))
        const [url] = yield* getDownloadUrls(api)
        assert.strictEqual(url?.fileName, expected)
      }))
  })
})

describe("TextRevealClient: mistakes refused with a clear error", () => {
  const layerError = (options: TextRevealClient.Options) => configErrorOf(fakeApi(ok()), options)

  it.effect.each(
    [
      ["https://api.textreveal.com/v3?x=1", "must not have a query"],
      ["https://api.textreveal.com/v3#top", "must not have a fragment"],
      [" https://api.textreveal.com/v3", "surrounding spaces"],
      ["https://api.textreveal.com/v3 ", "surrounding spaces"],
      ["https://api.textreveal.com", "must end with /v3"],
      ["https://api.textreveal.com/v2", "must end with /v3"],
      ["ftp://api.textreveal.com/v3", "must be an http(s) URL"],
      ["api.textreveal.com/v3", "is not an absolute URL"]
    ] as const
  )("baseUrl %j: refused when the layer is built (%s), nothing sent", ([baseUrl, message]) =>
    Effect.gen(function*() {
      const api = fakeApi(ok())
      const error = yield* configErrorOf(api, { baseUrl })
      assert.include(String(error), message)
      assert.strictEqual(api.requests.length, 0)
    }))

  it.effect("a baseUrl with credentials is refused without printing them", () =>
    Effect.gen(function*() {
      const error = yield* layerError({ baseUrl: "https://alice:pa55w0rd@api.textreveal.com/v3" })
      assert.include(String(error), "must not carry credentials")
      for (const text of printed(error)) {
        assert.notInclude(text, "pa55w0rd")
        assert.notInclude(text, "alice")
      }
    }))

  it.effect("an upper-case task id is sent in lower case", () =>
    Effect.gen(function*() {
      const api = fakeApi(ok())
      yield* getDownloadUrls(api, {}, undefined, taskId.toUpperCase())
      assert.strictEqual(api.requests[0]?.url, `https://api.textreveal.com/v3/tasks/${taskId}/download`)
    }))

  it.effect.each([["a line break", "tok\nx"], ["a space", "tok x"], ["non-ASCII", "tøk"], ["nothing", ""]])(
    "a token holding %s is a ConfigError of layerToken, nothing sent",
    ([, bad]) =>
      Effect.gen(function*() {
        const api = fakeApi(ok())
        const error = yield* Effect.flip(
          getDownloadUrls(api, {}, Credentials.layerToken(Redacted.make(bad as string)))
        )
        assert.strictEqual(error._tag, "ConfigError")
        assert.strictEqual(api.requests.length, 0)
      })
  )

  it.effect("a token with a line break from custom credentials: Unauthorized before any request", () =>
    Effect.gen(function*() {
      const api = fakeApi(ok())
      const credentials = Layer.succeed(Credentials.Credentials, {
        renewable: false,
        get: Effect.succeed({ token: Redacted.make("tok\r\nX-Injected: 1"), fresh: false }),
        invalidate: () => Effect.void
      })
      const error = yield* Effect.flip(getDownloadUrls(api, {}, credentials))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.include(error.message, "cannot be sent in an HTTP header")
      assert.strictEqual(api.requests.length, 0)
    }))

  it.effect("a transport failure names the host and the cause, in the message and the retry log", () =>
    Effect.gen(function*() {
      const capture = captureLogs()
      const api = fakeApi(transport)
      const error = failureOf(
        yield* runFor(getDownloadUrls(api, { transientRetry: { times: 1 } }).pipe(Effect.provide(capture.layer)))
      )
      assert.include(error.message, "api.textreveal.com: ECONNRESET")
      const retry = capture.logs.find((log) => log.level === "WARN")
      assert.include(String(retry?.annotations.failure), "api.textreveal.com: ECONNRESET")
    }))

  it.effect("an invalid URL cannot heal: not retried", () =>
    Effect.gen(function*() {
      const api = fakeHttp((request) =>
        Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", description: "bad" }))
      )
      const error = yield* Effect.flip(getDownloadUrls(api))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(api.requests.length, 1)
    }))
})

describe("TextRevealClient.client: an endpoint the library does not model, through the same pipeline", () => {
  const exportPath = "/universes/u1/entities/export"

  it.effect("same base URL, token and headers; a 2xx comes back with its body read", () =>
    Effect.gen(function*() {
      const api = fakeApi(json(200, { task_id: taskId }))
      const body = yield* withClient(api, ({ client }) =>
        Effect.flatMap(client.post(exportPath), (response) => response.json))
      assert.deepStrictEqual(body, { task_id: taskId })
      const [{ request, url }] = api.requests as [(typeof api.requests)[0]]
      assert.strictEqual(url, `https://api.textreveal.com/v3${exportPath}`)
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.headers["authorization"], `Bearer ${token}`)
      assert.strictEqual(request.headers["accept"], "application/json")
    }))

  it.effect("another status is its typed error, naming the request", () =>
    Effect.gen(function*() {
      const api = fakeApi(apiError(404, "not_found", "no such universe"))
      const error = yield* Effect.flip(withClient(api, ({ client }) => client.get("/universes/u1")))
      assert.strictEqual(error._tag, "NotFound")
      if (error._tag !== "NotFound") return
      assert.strictEqual(error.method, "GET /universes/u1")
      assert.strictEqual(error.message, "no such universe (GET /universes/u1)")
    }))

  it.effect("a GET is retried after a 503; a POST is not (the server may have acted on it), but is after a 429", () =>
    Effect.gen(function*() {
      const get = fakeApi(text(503, ""), json(200, {}))
      assert.isTrue(Exit.isSuccess(yield* runFor(withClient(get, ({ client }) => client.get("/universes")))))
      assert.strictEqual(get.requests.length, 2)

      const post = fakeApi(text(503, ""), json(200, {}))
      const error = failureOf(yield* runFor(withClient(post, ({ client }) => client.post(exportPath))))
      assert.strictEqual(error._tag, "ServerError")
      assert.strictEqual(post.requests.length, 1)

      const dropped = fakeApi(transport, json(200, {}))
      assert.isTrue(Exit.isFailure(yield* runFor(withClient(dropped, ({ client }) => client.post(exportPath)))))
      assert.strictEqual(dropped.requests.length, 1)

      const limited = fakeApi(tooMany("1"), json(200, {}))
      assert.isTrue(Exit.isSuccess(yield* runFor(withClient(limited, ({ client }) => client.post(exportPath)))))
      assert.strictEqual(limited.requests.length, 2)
    }))
})

describe("TextRevealClient.getTaskStatus", () => {
  it.effect.each(["starting", "running", "failed", "completed"] as const)(
    "answers %s",
    (status) =>
      Effect.gen(function*() {
        const api = fakeApi(json(200, { status }))
        const answer = yield* withClient(api, (client) => client.getTaskStatus(taskId))
        assert.strictEqual(answer, status)
        assert.strictEqual(api.requests[0]?.url, `https://api.textreveal.com/v3/tasks/${taskId}/status`)
      })
  )

  it.effect("an unknown status is a Decode error naming where", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        withClient(fakeApi(json(200, { status: "paused" })), (c) => c.getTaskStatus(taskId))
      )
      assert.strictEqual(error._tag, "ResponseError")
      assert.include(error.message, "(at .status)")
    }))

  it.effect("a task id that is not a UUID sends nothing", () =>
    Effect.gen(function*() {
      const api = fakeApi(json(200, { status: "running" }))
      const error = yield* Effect.flip(withClient(api, (c) => c.getTaskStatus("nope")))
      assert.strictEqual(error._tag, "Invalid")
      assert.strictEqual(api.requests.length, 0)
    }))
})

describe("TextRevealClient.listTasks", () => {
  const task = (n: number) => ({
    id: `f47ac10b-58cc-4372-a567-0e02b2c3d4${String(n).padStart(2, "0")}`,
    status: "completed",
    description: `task ${n}`,
    type: "export",
    created_at: "2025-03-01T12:00:00Z",
    completed_at: "2025-03-01T12:05:00.123Z"
  })
  const page = (ids: ReadonlyArray<number>, next: string | null) =>
    json(200, { data: ids.map(task), size: ids.length, has_next: next !== null, count: 5, search_after: next })

  it.effect("pages through search_after, fetching a page only when it is pulled", () =>
    Effect.gen(function*() {
      const api = fakeApi(page([1, 2], "c2"), page([3, 4], "c4"), page([5], null))
      const firstThree = yield* withClient(api, (c) => Stream.runCollect(Stream.take(c.listTasks({ size: 2 }), 3)))
      assert.deepStrictEqual(Chunk.toReadonlyArray(firstThree).map((t) => t.description), [
        "task 1",
        "task 2",
        "task 3"
      ])
      assert.strictEqual(api.requests.length, 2)
      assert.deepStrictEqual(api.requests.map((r) => r.url), [
        "https://api.textreveal.com/v3/tasks?size=2",
        "https://api.textreveal.com/v3/tasks?size=2&search_after=c2"
      ])
      const all = yield* withClient(
        fakeApi(page([1, 2], "c2"), page([3, 4], "c4"), page([5], null)),
        (c) => Stream.runCollect(c.listTasks({ size: 2 }))
      )
      assert.strictEqual(Chunk.size(all), 5)
      const first = Chunk.unsafeGet(all, 0)
      assert.instanceOf(first, Task.Task)
      assert.strictEqual(DateTime.formatIso(first.created_at!), "2025-03-01T12:00:00.000Z")
    }))

  it.effect("fields and order are sent; id is always asked for", () =>
    Effect.gen(function*() {
      const api = fakeApi(page([1], null))
      yield* withClient(api, (c) =>
        Stream.runDrain(c.listTasks({ size: 10, fields: ["status"], order: ["created_at:desc", "status:asc"] })))
      assert.strictEqual(
        api.requests[0]?.url,
        "https://api.textreveal.com/v3/tasks?size=10&fields=id%2Cstatus&order=created_at%3Adesc%2Cstatus%3Aasc"
      )
    }))

  it.effect.each<{ readonly name: string; readonly options: TextRevealClient.ListTasksOptions }>([
    { name: "size 0", options: { size: 0 } },
    { name: "size 1001", options: { size: 1001 } },
    { name: "size 1.5", options: { size: 1.5 } },
    { name: "an unknown field", options: { fields: ["secret" as Task.TaskField] } },
    { name: "a bad order", options: { order: ["name:asc" as Task.TaskOrder] } },
    { name: "four order keys", options: { order: ["status:asc", "status:asc", "status:asc", "status:asc"] } }
  ])("$name: Invalid before anything is sent", ({ options }) =>
    Effect.gen(function*() {
      const api = fakeApi(page([1], null))
      const error = yield* Effect.flip(withClient(api, (c) => Stream.runDrain(c.listTasks(options))))
      assert.strictEqual(error._tag, "Invalid")
      assert.strictEqual(api.requests.length, 0)
    }))

  it.effect("a server repeating its cursor ends in a Decode error, not an endless stream", () =>
    Effect.gen(function*() {
      const api = fakeApi(page([1], "same"), page([2], "same"))
      const error = yield* Effect.flip(withClient(api, (c) => Stream.runDrain(c.listTasks())))
      assert.strictEqual(error._tag, "ResponseError")
      assert.include(error.message, "gave on page 2 the search_after cursor it had already given on page 1")
      assert.strictEqual(api.requests.length, 2)
    }))

  it.effect.each<{
    readonly name: string
    readonly cursor: (n: number) => string
    readonly maxPages: number
    readonly requests: number
    readonly says: string
  }>([
    {
      name: "a server alternating cursors A, B, A …: ends at the first cursor seen before",
      cursor: (n) => n % 2 === 1 ? "A" : "B",
      maxPages: 10_000,
      requests: 3,
      says: "gave on page 3 the search_after cursor it had already given on page 1"
    },
    {
      name: "a server inventing cursors forever: ends past maxPages",
      cursor: (n) => `c${n}`,
      maxPages: 5,
      requests: 5,
      says: "more than 5 pages"
    }
  ])("$name, with a Decode error saying why", ({ cursor, maxPages, requests, says }) =>
    Effect.gen(function*() {
      const api = fakeHttp((_request, n) => Effect.succeed(page([n % 100], cursor(n))))
      // Bounded here so that an endless stream fails the test instead of hanging it.
      const error = yield* Effect.flip(
        withClient(api, (c) => Stream.runDrain(Stream.take(c.listTasks({ maxPages }), 1_000)))
      )
      assert.strictEqual(error._tag, "ResponseError")
      if (error._tag !== "ResponseError") return
      assert.strictEqual(error.reason, "Decode")
      assert.include(error.message, says)
      assert.strictEqual(api.requests.length, requests)
    }))

  it.effect("maxPages defaults to defaultMaxPages (10,000): without the option, long listings pass", () =>
    Effect.gen(function*() {
      assert.strictEqual(TextRevealClient.defaultMaxPages, 10_000)
      // The bound is enforced as the table above shows for explicit values; running 10,000 pages through the
      // whole client would cost the suite half a minute, so this checks that no small bound applies instead.
      const api = fakeHttp((_request, n) => Effect.succeed(page([], n >= 200 ? null : `c${n}`)))
      yield* withClient(api, (c) => Stream.runDrain(c.listTasks()))
      assert.strictEqual(api.requests.length, 200)
    }))

  it.effect("maxPages that is not a positive integer: Invalid before anything is sent", () =>
    Effect.gen(function*() {
      const api = fakeApi(page([1], null))
      const error = yield* Effect.flip(withClient(api, (c) => Stream.runDrain(c.listTasks({ maxPages: 0 }))))
      assert.strictEqual(error._tag, "Invalid")
      assert.strictEqual(api.requests.length, 0)
    }))
})
