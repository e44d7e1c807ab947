/**
 * The real client (`TextRevealClient.layer` + `Credentials.layerPassword` + `FetchHttpClient`) against the
 * sandbox, over real sockets on 127.0.0.1: each documented answer and each injected fault.
 *
 * Calls that retry run with `it.live` and delays of a few milliseconds, so that a retry that should not
 * happen shows up in the sandbox's request log instead of hanging on a frozen `TestClock`; the waits of
 * `Retry-After` are checked with `TestClock` on a forked call.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/testing"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { eventually } from "./fixtures/eventually.js"

// ---- helpers

/** Short retry delays: a whole retry budget takes milliseconds. */
const fastRetry = {
  retry: { base: "1 millis", cap: "5 millis" },
  transientRetry: { base: "1 millis" }
} satisfies TextRevealClient.Options

interface Setup {
  readonly sandbox?: Sandbox.Options | undefined
  readonly client?: TextRevealClient.Options | undefined
  /** The password given to `layerPassword`; default: the sandbox's own. */
  readonly password?: string | undefined
}

/** The client wired as an application would, against a sandbox made for the test. */
const withClient = (setup: Setup = {}) => <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const client = Layer.unwrapEffect(
    Effect.map(
      Sandbox.Sandbox,
      (sandbox) =>
        TextRevealClient.layer({ baseUrl: sandbox.baseUrl, ...fastRetry, ...setup.client }).pipe(
          Layer.provideMerge(Credentials.layerPassword({
            username: sandbox.username,
            password: setup.password ?? sandbox.password,
            tokenUrl: sandbox.tokenUrl,
            ...fastRetry
          }))
        )
    )
  )
  return effect.pipe(
    Effect.provide(
      client.pipe(Layer.provideMerge(FetchHttpClient.layer), Layer.provideMerge(Sandbox.layer(setup.sandbox)))
    ),
    // The client logs each retry as a warning; the request log is what these tests read.
    Logger.withMinimumLogLevel(LogLevel.Error)
  )
}

const getDownloadUrls = (taskId: string) =>
  Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId))

/** The requests the sandbox received on a route. */
const received = (route: Sandbox.Route | "unknown") =>
  Effect.flatMap(
    Sandbox.Sandbox,
    (sandbox) => Effect.map(sandbox.requests, (requests) => requests.filter((r) => r.route === route))
  )

const routes = Effect.flatMap(
  Sandbox.Sandbox,
  (sandbox) => Effect.map(sandbox.requests, (requests) => requests.map((r) => `${r.route} ${r.status}`))
)

/** A completed task with two small files. */
const createTask = (options: Sandbox.TaskOptions = { files: [{ rows: 10 }, { rows: 5 }] }) =>
  Effect.flatMap(Sandbox.Sandbox, (sandbox) => sandbox.createTask(options))

// ---- documented answers

describe("TextRevealClient against the sandbox: documented answers", () => {
  it.effect("a completed task: its URLs in order, named, valid 5 minutes after the answer", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00.000Z"))
      const id = yield* createTask({ files: [{ name: "b.csv", rows: 3 }, { name: "a.csv", rows: 4 }] })
      const urls = yield* getDownloadUrls(id)
      assert.deepStrictEqual(urls.map((u) => u.fileName), ["b.csv", "a.csv"])
      for (const url of urls) {
        assert.strictEqual(DateTime.formatIso(url.expiresAt), "2024-05-01T12:05:00.000Z")
        assert.include(url.url, `/files/exports/task=${id}/`)
      }
      assert.deepStrictEqual(yield* routes, ["token 200", "download 200"])
    }).pipe(withClient()))

  it.effect("the signed URLs work with a plain GET, and the file host is never sent a token", () =>
    Effect.gen(function*() {
      const id = yield* createTask({ files: [{ rows: 3 }, { rows: 4 }] })
      const urls = yield* getDownloadUrls(id)
      const http = yield* HttpClient.HttpClient
      const lines: Array<number> = []
      for (const url of urls) {
        const response = yield* http.get(url.url)
        assert.strictEqual(response.status, 200)
        const text = yield* response.text
        assert.isTrue(text.startsWith("entity_id,name,isin,ticker,country,sector,founded,sentiment\n"))
        lines.push(text.trimEnd().split("\n").length)
      }
      assert.deepStrictEqual(lines, [4, 5])
      const requests = (yield* Sandbox.Sandbox).requests
      const log = yield* requests
      assert.deepStrictEqual(log.map((r) => [r.route, r.authorization]), [
        ["token", false],
        ["download", true],
        ["file", false],
        ["file", false]
      ])
    }).pipe(withClient()))

  it.effect("a failed task: Invalid 400 with the sandbox's message and reason, one request", () =>
    Effect.gen(function*() {
      const id = yield* createTask({ outcome: "failed" })
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "Invalid")
      if (error._tag !== "Invalid") return
      assert.strictEqual(error.status, 400)
      assert.strictEqual(error.reason, "internal")
      assert.strictEqual(error.message, "An error occured while processing the task.")
      assert.deepStrictEqual(error.errors, [])
      assert.strictEqual((yield* received("download")).length, 1)
    }).pipe(withClient()))

  it.effect("a task still running: Invalid 400 reason invalid", () =>
    Effect.gen(function*() {
      const id = yield* createTask({ runningFor: "1 minute" })
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "Invalid")
      if (error._tag !== "Invalid") return
      assert.strictEqual(error.reason, "invalid")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
    }).pipe(withClient()))

  it.effect("an unknown task: NotFound 404, one request", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(getDownloadUrls("f47ac10b-58cc-4372-a567-0e02b2c3d479"))
      assert.strictEqual(error._tag, "NotFound")
      if (error._tag !== "NotFound") return
      assert.strictEqual(error.status, 404)
      assert.strictEqual(error.reason, "not_found")
      assert.strictEqual(error.message, "The requested task does not exist or is not visible to you.")
      assert.deepStrictEqual(yield* routes, ["token 200", "download 404"])
    }).pipe(withClient()))

  it.effect("a task id that is not a UUID: Invalid on task_id, and nothing is sent (not even a token request)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(getDownloadUrls("../tasks"))
      assert.strictEqual(error._tag, "Invalid")
      if (error._tag !== "Invalid") return
      assert.deepStrictEqual(error.errors.map((e) => e.field), ["task_id"])
      assert.deepStrictEqual(yield* routes, [])
    }).pipe(withClient()))

  it.effect("a task of another account: Forbidden 403 at once on a token obtained for the call", () =>
    Effect.gen(function*() {
      const id = yield* createTask({ accessible: false })
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "Forbidden")
      if (error._tag !== "Forbidden") return
      assert.strictEqual(error.status, 403)
      assert.strictEqual(error.reason, "forbidden")
      assert.strictEqual(error.message, "Not authorized to access this resource")
      assert.deepStrictEqual(yield* routes, ["token 200", "download 403"])
    }).pipe(withClient()))

  it.effect("a 403 on a remembered token is tried once more with a new token, then Forbidden", () =>
    Effect.gen(function*() {
      yield* getDownloadUrls(yield* createTask())
      const hidden = yield* createTask({ accessible: false })
      const sandbox = yield* Sandbox.Sandbox
      yield* sandbox.clearRequests
      const error = yield* Effect.flip(getDownloadUrls(hidden))
      assert.strictEqual(error._tag, "Forbidden")
      assert.deepStrictEqual(yield* routes, ["download 403", "token 200", "download 403"])
    }).pipe(withClient()))

  it.effect("a wrong password: Unauthorized from the token endpoint's refusal; the API is never called", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(getDownloadUrls(yield* createTask()))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag !== "Unauthorized") return
      assert.strictEqual(error.status, 401)
      assert.strictEqual(error.reason, "invalid_grant")
      assert.include(error.message, "(403)")
      assert.include(error.message, "Wrong email or password.")
      assert.notInclude(String(error), "wrong-secret")
      assert.deepStrictEqual(yield* routes, ["token 403"])
    }).pipe(withClient({ password: "wrong-secret" })))

  it.effect("a fixed token the API does not know: Unauthorized 401, not retried", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const id = yield* sandbox.createTask()
      const error = yield* TextRevealClient.TextRevealClient.pipe(
        Effect.flatMap((client) => Effect.flip(client.getDownloadUrls(id))),
        Effect.provide(
          TextRevealClient.layer({ baseUrl: sandbox.baseUrl, ...fastRetry }).pipe(
            Layer.provide(Credentials.layerToken(Redacted.make("sbx.made-up"))),
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag !== "Unauthorized") return
      assert.strictEqual(error.message, "invalid username or API key")
      assert.deepStrictEqual(yield* routes, ["download 401"])
    }).pipe(withClient()))

  it.effect.each([401, 403] as const)(
    "a token the sandbox expired (answered %s) is renewed once and the call repeated",
    (
      rejectedTokenStatus
    ) =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const id = yield* createTask()
        yield* getDownloadUrls(id)
        yield* sandbox.expireTokens
        assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
        assert.deepStrictEqual(yield* routes, [
          "token 200",
          "download 200",
          `download ${rejectedTokenStatus}`,
          "token 200",
          "download 200"
        ])
      }).pipe(withClient({ sandbox: { rejectedTokenStatus } }))
  )

  it.effect("a token near the end of its lifetime is renewed before use, without a 401", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* getDownloadUrls(id)
      yield* TestClock.adjust("56 minutes")
      yield* getDownloadUrls(id)
      assert.deepStrictEqual(yield* routes, ["token 200", "download 200", "token 200", "download 200"])
    }).pipe(withClient({ sandbox: { tokenLifetime: "1 hour" } })))

  it.effect("after the sandbox expires the token, concurrent calls share one renewal", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const id = yield* createTask()
      yield* getDownloadUrls(id)
      yield* sandbox.expireTokens
      const results = yield* Effect.all(Array.from({ length: 5 }, () => getDownloadUrls(id)), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(results.map((urls) => urls.length), [2, 2, 2, 2, 2])
      assert.strictEqual((yield* received("token")).length, 2)
      const downloads = (yield* received("download")).map((r) => r.status)
      assert.strictEqual(downloads.filter((status) => status === 200).length, 6)
    }).pipe(withClient()))

  it.effect("a renewal the token endpoint refuses leaves the current, unexpired token in use", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const id = yield* createTask()
      yield* getDownloadUrls(id)
      yield* TestClock.adjust("56 minutes")
      // A Retry-After beyond maxRetryAfter: the token request fails at once, without a wait.
      yield* sandbox.injectFault("token", Sandbox.Fault.TooManyRequests({ retryAfter: 3600 }))
      assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
      assert.deepStrictEqual(yield* routes, ["token 200", "download 200", "token 429", "download 200"])
    }).pipe(withClient({ sandbox: { tokenLifetime: "1 hour" } })))

  it.effect("one token request serves several calls, sequential and concurrent", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* Effect.all(Array.from({ length: 5 }, () => getDownloadUrls(id)), { concurrency: "unbounded" })
      yield* getDownloadUrls(id)
      yield* getDownloadUrls(id)
      assert.strictEqual((yield* received("token")).length, 1)
      assert.strictEqual((yield* received("download")).length, 7)
    }).pipe(withClient()))
})

// ---- faults

describe("TextRevealClient against the sandbox: faults", () => {
  /** Injects a fault on the download route. */
  const inject = (fault: Sandbox.Fault, schedule?: Sandbox.FaultSchedule) =>
    Effect.flatMap(Sandbox.Sandbox, (sandbox) => sandbox.injectFault("download", fault, schedule))

  const downloads = Effect.map(received("download"), (log) => log.map((r) => [r.status, r.fault ?? null] as const))

  it.live("429 twice, then success: the call recovers", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.TooManyRequests({}), { times: 2 })
      assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
      assert.deepStrictEqual(yield* downloads, [[429, "TooManyRequests"], [429, "TooManyRequests"], [200, null]])
    }).pipe(withClient()))

  it.live.each([
    { times: undefined, attempts: 9 },
    { times: 2, attempts: 3 }
  ])(
    "429 forever: gives up with TooManyRequests after retry.times + 1 = $attempts requests",
    ({ attempts, times }) =>
      Effect.gen(function*() {
        const id = yield* createTask()
        yield* inject(Sandbox.Fault.TooManyRequests({}), { times: 100 })
        const error = yield* Effect.flip(getDownloadUrls(id))
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(error.status, 429)
        assert.strictEqual(error.attempts, attempts)
        assert.strictEqual(error.reason, "too_many_requests")
        assert.strictEqual(error.message, "You have too many exports in progress.")
        assert.isUndefined(error.retryAfter)
        assert.strictEqual((yield* received("download")).length, attempts)
      }).pipe(withClient({ client: { retry: { ...fastRetry.retry, times } } }))
  )

  it.live("an HTML 503 from a proxy, then success: the call recovers", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.ServerError({ status: 503, html: true }))
      assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
      assert.deepStrictEqual(yield* downloads, [[503, "ServerError"], [200, null]])
    }).pipe(withClient()))

  it.live("5xx forever (JSON): ServerError after 4 requests", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.ServerError({}), { times: 100 })
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "ServerError")
      if (error._tag !== "ServerError") return
      assert.strictEqual(error.status, 500)
      assert.strictEqual(error.attempts, 4)
      assert.strictEqual(error.reason, "internal")
      assert.strictEqual(error.message, "Internal server error")
      assert.strictEqual((yield* received("download")).length, 4)
    }).pipe(withClient()))

  it.live("5xx forever (HTML 502): ServerError after 4 requests, with an excerpt of the page", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.ServerError({ status: 502, html: true }), { times: 100 })
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "ServerError")
      if (error._tag !== "ServerError") return
      assert.strictEqual(error.status, 502)
      assert.strictEqual(error.attempts, 4)
      assert.strictEqual(error.reason, "unknown")
      assert.include(error.excerpt ?? "", "502 Bad Gateway")
      assert.notInclude(error.excerpt ?? "", "<")
      assert.strictEqual((yield* received("download")).length, 4)
    }).pipe(withClient()))

  it.live.each(
    [
      ["MalformedJson", Sandbox.Fault.MalformedJson()],
      ["WrongShape", Sandbox.Fault.WrongShape()]
    ] as const
  )("%s: ResponseError reason Decode after exactly one request, not retried", ([_, fault]) =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(fault)
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "ResponseError")
      if (error._tag !== "ResponseError") return
      assert.strictEqual(error.reason, "Decode")
      assert.strictEqual(error.response.status, 200)
      assert.strictEqual((yield* received("download")).length, 1)
      // The next call is answered normally.
      assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
    }).pipe(withClient()))

  // What the client does today: a body cut after its headers fails the body read, which the platform reports
  // as a ResponseError with reason Decode; it is neither retried nor typed as a transport failure.
  it.live("DropConnection on the download body: a transport failure, retried, then the URLs", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.DropConnection({ afterBytes: 10 }))
      const urls = yield* getDownloadUrls(id)
      assert.strictEqual(urls.length, 2)
      assert.deepStrictEqual(yield* downloads, [[200, "DropConnection"], [200, null]])
    }).pipe(withClient()))

  it.live("DropConnection on every download body: RequestError Transport after the transient retries", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.DropConnection({ afterBytes: 10 }), { times: 10 })
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag !== "RequestError") return
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual((yield* downloads).length, 4)
    }).pipe(withClient()))

  it.live("SlowBody on the download answer: the URLs arrive whole", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      const normal = yield* getDownloadUrls(id)
      yield* inject(Sandbox.Fault.SlowBody({ delay: "1 millis", chunkSize: 64 }))
      const slow = yield* getDownloadUrls(id)
      assert.deepStrictEqual(slow.map((u) => u.fileName), normal.map((u) => u.fileName))
      assert.deepStrictEqual((yield* downloads).map(([, fault]) => fault), [null, "SlowBody"])
    }).pipe(withClient()))

  it.live("Retry-After: 0 is honoured: retried at once until success", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: 0 }), { times: 3 })
      // Were Retry-After ignored, the backoff (up to an hour) would outlast this bound.
      assert.strictEqual((yield* getDownloadUrls(id).pipe(Effect.timeout("5 seconds"))).length, 2)
      assert.strictEqual((yield* received("download")).length, 4)
    }).pipe(withClient({ client: { retry: { base: "1 hour", cap: "1 hour" } } })))

  describe("Retry-After by TestClock", () => {
    /** Forks a call, waits until it sleeps after a 429, and gives the fiber and when the sleep ends. */
    const forkUntilSleeping = (id: string) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(getDownloadUrls(id))
        yield* eventually(Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length > 0), "the call sleeps")
        return { fiber, wakeAt: Chunk.toReadonlyArray(yield* TestClock.sleeps()) }
      })

    it.effect("Retry-After: 2 (seconds): the next request is sent 2 s later, not before", () =>
      Effect.gen(function*() {
        const id = yield* createTask()
        yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: 2 }))
        const { fiber, wakeAt } = yield* forkUntilSleeping(id)
        assert.deepStrictEqual(wakeAt, [2_000])
        yield* TestClock.adjust(Duration.millis(1_999))
        assert.strictEqual((yield* received("download")).length, 1)
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
        yield* TestClock.adjust(Duration.millis(1))
        assert.strictEqual((yield* Fiber.join(fiber)).length, 2)
        assert.deepStrictEqual(yield* downloads, [[429, "TooManyRequests"], [200, null]])
      }).pipe(withClient({ client: { retry: { base: "1 hour", cap: "1 hour" } } })))

    it.effect("Retry-After as an HTTP date: the wait runs until that date, by Clock", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00.000Z"))
        const id = yield* createTask()
        yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: "Wed, 01 May 2024 12:00:30 GMT" }))
        const { fiber, wakeAt } = yield* forkUntilSleeping(id)
        assert.deepStrictEqual(wakeAt, [Date.parse("2024-05-01T12:00:30.000Z")])
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual((yield* Fiber.join(fiber)).length, 2)
        assert.strictEqual((yield* received("download")).length, 2)
      }).pipe(withClient({ client: { retry: { base: "1 hour", cap: "1 hour" } } })))

    it.effect("a Retry-After beyond maxRetryAfter fails at once with it, after one request", () =>
      Effect.gen(function*() {
        const id = yield* createTask()
        yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: 600 }))
        const error = yield* Effect.flip(getDownloadUrls(id))
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(error.attempts, 1)
        assert.isTrue(error.retryAfter !== undefined && Duration.equals(error.retryAfter, Duration.seconds(600)))
        assert.strictEqual((yield* received("download")).length, 1)
      }).pipe(withClient()))
  })

  it.live.each(
    [
      ["a 429", Sandbox.Fault.TooManyRequests({ retryAfter: 0 })],
      ["an HTML 503", Sandbox.Fault.ServerError({ status: 503, html: true })]
    ] as const
  )("the token endpoint answering %s once: the token request is retried and the call succeeds", ([
    _,
    fault
  ]) =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const id = yield* createTask()
      yield* sandbox.injectFault("token", fault)
      assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
      assert.deepStrictEqual(
        (yield* received("token")).map((r) => r.fault ?? null),
        [fault._tag, null]
      )
    }).pipe(withClient()))

  it.effect("ExpireEarly: a URL refused as expired by the file host is replaced by asking again", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      const http = yield* HttpClient.HttpClient
      yield* inject(Sandbox.Fault.ExpireEarly({}))
      const [early] = yield* getDownloadUrls(id)
      const refused = yield* http.get(early!.url)
      assert.strictEqual(refused.status, 403)
      assert.include(yield* refused.text, "<Code>AccessDenied</Code>")
      const [fresh] = yield* getDownloadUrls(id)
      assert.strictEqual(fresh!.fileName, early!.fileName)
      assert.strictEqual((yield* http.get(fresh!.url)).status, 200)
    }).pipe(withClient()))
})
