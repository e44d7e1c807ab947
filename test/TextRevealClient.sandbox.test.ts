/**
 * The real client against the sandbox, over real sockets on 127.0.0.1: each documented answer and each
 * injected fault. The client is wired by `Sandbox.layerClient` (password credentials, the sandbox's base
 * URL) over `FetchHttpClient`, as a user's tests wire it; by hand only for a wrong password or a fixed token.
 *
 * Time is `TestClock`'s, one clock for the client and the sandbox of a block: it moves only when a test
 * moves it, so that nothing here waits in real time (but for the one `SlowBody` test, whose sandbox
 * trickles a body on the live clock). A call that retries runs in a fiber under `runRetrying`: the client
 * logs each retry at WARN, with its wait, right before it sleeps; on that event the test moves the clock
 * by exactly that wait. Waits are jittered: the random draw is fixed (`Effect.withRandomFixed`) wherever a
 * wait is asserted, and the instants the requests went out at are read from the client's side.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it, layer } from "@effect/vitest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/sandbox"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import { createHash } from "node:crypto"
import { assertNothingPrinted, failureOf } from "./fixtures/fakeApi.js"
import { captureSpans, successOf } from "./fixtures/tokenEndpoint.js"

/** A message of the API as an error of `getDownloadUrls` on task `id` says it: the call named at the end. */
const named = (message: string, id: string) => `${message} (getDownloadUrls ${id})`

// ---- fixtures

/** The instants (by `Clock`) at which the client sent its requests, oldest first. */
class SentAt extends Context.Tag("test/SentAt")<SentAt, Array<{ readonly url: string; readonly at: number }>>() {}

/** `FetchHttpClient`, noting when each request is sent. */
const RecordingHttp = Layer.effectContext(Effect.gen(function*() {
  const sent: Array<{ readonly url: string; readonly at: number }> = []
  const http = (yield* HttpClient.HttpClient).pipe(
    HttpClient.tapRequest((request) =>
      Effect.map(Clock.currentTimeMillis, (at) => {
        sent.push({ url: request.url, at })
      })
    )
  )
  return Context.make(HttpClient.HttpClient, http).pipe(Context.add(SentAt, sent))
})).pipe(Layer.provide(FetchHttpClient.layer))

/** A sandbox and the client wired to it by `Sandbox.layerClient`, over `FetchHttpClient`. */
const SandboxClient = (options?: Sandbox.ClientOptions) =>
  Sandbox.layerClient(options).pipe(Layer.provideMerge(RecordingHttp))

/** A sandbox and a client wired to it by hand, with the credentials given. */
const HandWired = (
  credentials: (sandbox: Sandbox.Service) => Layer.Layer<Credentials.Credentials, unknown, HttpClient.HttpClient>
) =>
  Layer.unwrapEffect(Effect.map(
    Sandbox.Sandbox,
    (sandbox) => TextRevealClient.layer({ baseUrl: sandbox.baseUrl }).pipe(Layer.provide(credentials(sandbox)))
  )).pipe(Layer.provideMerge(Sandbox.layer()), Layer.provideMerge(RecordingHttp))

const getDownloadUrls = (taskId: string) =>
  Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId))

/** A completed task with two small files. */
const createTask = (options: Sandbox.TaskOptions = { files: [{ rows: 10 }, { rows: 5 }] }) =>
  Effect.flatMap(Sandbox.Sandbox, (sandbox) => sandbox.createTask(options))

/** Every request the sandbox received, as `route status`. */
const routes = Effect.flatMap(
  Sandbox.Sandbox,
  (sandbox) => Effect.map(sandbox.requests, (requests) => requests.map((r) => `${r.route} ${r.status}`))
)

/** The requests the sandbox received for one task (its API routes and its files). */
const requestsFor = (taskId: string) =>
  Effect.flatMap(
    Sandbox.Sandbox,
    (sandbox) => Effect.map(sandbox.requests, (requests) => requests.filter((r) => r.url.includes(taskId)))
  )

/** The download requests of one task, as `[status, fault]`. */
const downloads = (taskId: string) =>
  Effect.map(
    requestsFor(taskId),
    (requests) => requests.filter((r) => r.route === "download").map((r) => [r.status, r.fault ?? null] as const)
  )

/** When the client sent the requests of one task, in milliseconds after the first. */
const sentAt = (taskId: string) =>
  Effect.map(SentAt, (sent) => {
    const ours = sent.filter((s) => s.url.includes(taskId))
    return ours.map((s) => s.at - ours[0]!.at)
  })

/** A retry as the client announces it in its WARN log. */
interface Retry {
  readonly attempt: number
  readonly status: string
  readonly reason: string
  readonly delay: string
}

const retry = (attempt: number, status: number | string, reason: string, delay: string): Retry => ({
  attempt,
  status: String(status),
  reason,
  delay
})

const units: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 }

/** The milliseconds of a `Duration.format`ted wait, e.g. `"2s 100ms"`. */
const millisOf = (formatted: string): number =>
  formatted === "0" ? 0 : formatted.split(" ").reduce((sum, part) => {
    const match = /^(\d+)(d|h|m|s|ms)$/.exec(part)
    return match === null ? assert.fail(`unreadable delay ${formatted}`) : sum + Number(match[1]) * units[match[2]!]!
  }, 0)

/**
 * Runs `call` in a fiber until it ends and gives its exit and the retries it announced: on each retry the
 * client logs (right before it sleeps), `TestClock` moves by exactly the announced wait. `meanwhile` runs
 * once the call is forked. A call that neither ends nor announces a retry within 5 s of real time fails
 * the test instead of hanging.
 */
const runRetrying = <A, E, R>(call: Effect.Effect<A, E, R>, meanwhile: Effect.Effect<void> = Effect.void) =>
  Effect.gen(function*() {
    // One queue for both events, in the order they happen: each retry, then the end of the call.
    const events = yield* Queue.unbounded<Either.Either<Retry, Exit.Exit<A, E>>>()
    const logger = Logger.make(({ annotations, logLevel }) => {
      if (logLevel !== LogLevel.Warning || !HashMap.has(annotations, "delay")) return
      const get = (key: string) => String(Option.getOrUndefined(HashMap.get(annotations, key)))
      Queue.unsafeOffer(events, Either.right(retry(Number(get("attempt")), get("status"), get("reason"), get("delay"))))
    })
    yield* call.pipe(
      Effect.exit,
      Effect.flatMap((exit) => Queue.offer(events, Either.left(exit))),
      Effect.provide(Logger.add(logger)),
      Effect.fork
    )
    yield* meanwhile
    const retries: Array<Retry> = []
    for (;;) {
      const next = yield* Queue.take(events).pipe(
        Effect.timeoutFail({
          duration: "5 seconds",
          onTimeout: () => new Error(`the call neither ended nor announced a retry (retries so far: ${retries.length})`)
        }),
        TestServices.provideLive,
        Effect.orDie
      )
      if (Either.isLeft(next)) return { exit: next.left, retries }
      retries.push(next.right)
      yield* TestClock.adjust(millisOf(next.right.delay))
    }
  })

const sha256 = (bytes: ArrayBuffer) => createHash("sha256").update(new Uint8Array(bytes)).digest("hex")

// ---- documented answers

layer(SandboxClient())("TextRevealClient against the sandbox: documented answers", (it) => {
  it.effect("a completed task: its URLs in order, named, valid 5 minutes after the answer, one request", () =>
    Effect.gen(function*() {
      const id = yield* createTask({ files: [{ name: "b.csv", rows: 3 }, { name: "a.csv", rows: 4 }] })
      const answeredAt = yield* Clock.currentTimeMillis
      const urls = yield* getDownloadUrls(id)
      assert.deepStrictEqual(urls.map((u) => u.fileName), ["b.csv", "a.csv"])
      for (const url of urls) {
        assert.strictEqual(DateTime.toEpochMillis(url.expiresAt), answeredAt + 5 * 60_000)
        assert.include(url.url, `/files/exports/task=${id}/`)
      }
      assert.deepStrictEqual(yield* downloads(id), [[200, null]])
    }))

  it.effect("the signed URLs serve the task's files with a plain GET, and the file host is never sent a token", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const id = yield* createTask({ files: [{ rows: 3 }, { rows: 4 }] })
      const http = yield* HttpClient.HttpClient
      const served: Array<{ readonly size: number; readonly sha256: string }> = []
      for (const url of yield* getDownloadUrls(id)) {
        const response = yield* http.get(url.url)
        assert.strictEqual(response.status, 200)
        const bytes = yield* response.arrayBuffer
        served.push({ size: bytes.byteLength, sha256: sha256(bytes) })
      }
      assert.deepStrictEqual(served, (yield* sandbox.files(id)).map(({ sha256, size }) => ({ size, sha256 })))
      assert.deepStrictEqual((yield* requestsFor(id)).map((r) => [r.route, r.authorization]), [
        ["download", true],
        ["file", false],
        ["file", false]
      ])
    }))

  it.effect("a failed task: Invalid 400 with taskFailed, the sandbox's message and reason, one request", () =>
    Effect.gen(function*() {
      const id = yield* createTask({ outcome: "failed" })
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "Invalid")
      if (error._tag !== "Invalid") return
      assert.strictEqual(error.status, 400)
      assert.isTrue(error.taskFailed)
      assert.isFalse(error.taskNotCompleted)
      assert.strictEqual(error.reason, "internal")
      assert.strictEqual(error.message, named("An error occured while processing the task.", id))
      assert.deepStrictEqual(
        error.errors.map((e) => [e.field, e.reason]),
        [["task_id", "task_failed"]]
      )
      assert.deepStrictEqual(yield* downloads(id), [[400, null]])
    }))

  it.effect.each(
    [
      { status: "starting", options: { startingFor: "1 minute" } },
      { status: "running", options: { runningFor: "1 minute" } }
    ] as const
  )(
    "a task still $status: Invalid 400 with taskNotCompleted; once it completes, its URLs",
    ({ options, status }) =>
      Effect.gen(function*() {
        const id = yield* createTask({ ...options, files: [{ rows: 1 }, { rows: 1 }] })
        const error = yield* Effect.flip(getDownloadUrls(id))
        assert.strictEqual(error._tag, "Invalid")
        if (error._tag !== "Invalid") return
        assert.isTrue(error.taskNotCompleted)
        assert.isFalse(error.taskFailed)
        assert.strictEqual(error.reason, "invalid")
        assert.strictEqual(error.message, named(`The task is not completed yet (status: ${status}).`, id))
        assert.deepStrictEqual(error.errors.map((e) => [e.field, e.reason]), [["task_id", "task_not_completed"]])
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
        assert.deepStrictEqual(yield* downloads(id), [[400, null], [200, null]])
      })
  )

  it.effect("getTaskStatus follows the task by Clock: starting, running, completed", () =>
    Effect.gen(function*() {
      const client = yield* TextRevealClient.TextRevealClient
      const id = yield* createTask({ startingFor: "1 minute", runningFor: "1 minute" })
      assert.strictEqual(yield* client.getTaskStatus(id), "starting")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* client.getTaskStatus(id), "running")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* client.getTaskStatus(id), "completed")
    }))

  it.effect("an unknown task: NotFound 404, one request", () =>
    Effect.gen(function*() {
      const id = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "NotFound")
      if (error._tag !== "NotFound") return
      assert.strictEqual(error.status, 404)
      assert.strictEqual(error.reason, "not_found")
      assert.strictEqual(error.message, named("The requested task does not exist or is not visible to you.", id))
      assert.deepStrictEqual(yield* downloads(id), [[404, null]])
    }))

  it.effect("a task id in upper case names the same task: sent in lower case, answered with its URLs", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      assert.strictEqual((yield* getDownloadUrls(id.toUpperCase())).length, 2)
      assert.deepStrictEqual((yield* requestsFor(id)).map((r) => r.url), [`/v3/tasks/${id}/download`])
    }))

  it.effect("a failed call's error names the request by method and URL only: no header (the token), no query", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const client = yield* TextRevealClient.TextRevealClient
      yield* sandbox.injectFault("tasks", Sandbox.Fault.MalformedJson())
      const error = yield* Effect.flip(Stream.runCollect(client.listTasks({ size: 5 })))
      assert.strictEqual(error._tag, "ResponseError")
      if (error._tag !== "ResponseError") return
      assert.strictEqual(error.reason, "Decode")
      assert.strictEqual(error.request.url, `${sandbox.baseUrl}/tasks`)
      assert.deepStrictEqual(Object.entries(error.request.headers), [])
      assert.strictEqual(error.response.status, 200)
      assert.strictEqual((yield* sandbox.requests).at(-1)?.url, "/v3/tasks?size=5")
    }))
})

// ---- tokens: each test with a client of its own, from its first token on

describe("TextRevealClient against the sandbox: tokens", () => {
  it.effect("the first call obtains one token; later calls, sequential and concurrent, use it", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* getDownloadUrls(id)
      yield* Effect.all(Array.from({ length: 5 }, () => getDownloadUrls(id)), { concurrency: "unbounded" })
      yield* getDownloadUrls(id)
      assert.deepStrictEqual(yield* routes, ["token 200", ...Array.from({ length: 7 }, () => "download 200")])
    }).pipe(Effect.provide(SandboxClient())))

  it.effect("a task id that is not a UUID: Invalid on task_id, and nothing is sent (not even a token request)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(getDownloadUrls("../tasks"))
      assert.strictEqual(error._tag, "Invalid")
      if (error._tag !== "Invalid") return
      assert.deepStrictEqual(error.errors.map((e) => e.field), ["task_id"])
      assert.deepStrictEqual(yield* routes, [])
    }).pipe(Effect.provide(SandboxClient())))

  it.effect("a task of another account: Forbidden 403 at once on a token obtained for the call", () =>
    Effect.gen(function*() {
      const id = yield* createTask({ accessible: false })
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "Forbidden")
      if (error._tag !== "Forbidden") return
      assert.strictEqual(error.status, 403)
      assert.strictEqual(error.reason, "forbidden")
      assert.strictEqual(error.message, named("Not authorized to access this resource", id))
      assert.deepStrictEqual(yield* routes, ["token 200", "download 403"])
    }).pipe(Effect.provide(SandboxClient())))

  it.effect("a 403 on a remembered token is tried once more with a new token, then Forbidden", () =>
    Effect.gen(function*() {
      yield* getDownloadUrls(yield* createTask())
      const error = yield* Effect.flip(getDownloadUrls(yield* createTask({ accessible: false })))
      assert.strictEqual(error._tag, "Forbidden")
      assert.deepStrictEqual(yield* routes, ["token 200", "download 200", "download 403", "token 200", "download 403"])
    }).pipe(Effect.provide(SandboxClient())))

  it.effect.each([401, 403] as const)(
    "a token the sandbox expired (answered %s) is renewed once and the call repeated",
    (rejectedTokenStatus) =>
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
      }).pipe(Effect.provide(SandboxClient({ rejectedTokenStatus })))
  )

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
      // The five calls go out with the expired token at once; their order on the wire is the sockets' own.
      assert.deepStrictEqual([...(yield* routes)].sort(), [
        ...Array.from({ length: 6 }, () => "download 200"),
        ...Array.from({ length: 5 }, () => "download 401"),
        "token 200",
        "token 200"
      ])
    }).pipe(Effect.provide(SandboxClient())))

  it.effect("a token near the end of its lifetime is renewed before use, without a 401", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* getDownloadUrls(id)
      yield* TestClock.adjust("56 minutes")
      yield* getDownloadUrls(id)
      assert.deepStrictEqual(yield* routes, ["token 200", "download 200", "token 200", "download 200"])
    }).pipe(Effect.provide(SandboxClient({ tokenLifetime: "1 hour" }))))

  it.effect("a renewal the token endpoint refuses leaves the current, unexpired token in use", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const id = yield* createTask()
      yield* getDownloadUrls(id)
      yield* TestClock.adjust("56 minutes")
      // A Retry-After beyond maxRetryAfter (5 minutes): the token request fails at once, without a wait.
      yield* sandbox.injectFault("token", Sandbox.Fault.TooManyRequests({ retryAfter: 3600 }))
      assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
      assert.deepStrictEqual(yield* routes, ["token 200", "download 200", "token 429", "download 200"])
    }).pipe(Effect.provide(SandboxClient({ tokenLifetime: "1 hour" }))))

  it.effect.each(
    [
      ["a 429 (Retry-After: 0)", Sandbox.Fault.TooManyRequests({ retryAfter: 0 }), retry(1, 429, "rate_limited", "0")],
      ["an HTML 503", Sandbox.Fault.ServerError({ status: 503, html: true }), retry(1, 503, "transient", "500ms")]
    ] as const
  )(
    "the token endpoint answering %s once: the token request is retried and the call succeeds",
    ([_, fault, announced]) =>
      Effect.gen(function*() {
        const id = yield* createTask()
        yield* (yield* Sandbox.Sandbox).injectFault("token", fault)
        const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
        assert.strictEqual(successOf(exit).length, 2)
        assert.deepStrictEqual(retries, [announced])
        assert.deepStrictEqual(yield* routes, [`token ${announced.status}`, "token 200", "download 200"])
      }).pipe(Effect.provide(SandboxClient()))
  )

  it.effect("a wrong password: Unauthorized with the token endpoint's status (403); the API is never called", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(getDownloadUrls(yield* createTask()))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag !== "Unauthorized") return
      assert.strictEqual(error.status, 403)
      assert.strictEqual(error.reason, "invalid_grant")
      assert.strictEqual(error.message, "The token endpoint refused the credentials (403): Wrong email or password.")
      assertNothingPrinted("the error", error, ["wrong-secret"])
      assert.deepStrictEqual(yield* routes, ["token 403"])
    }).pipe(
      Effect.provide(
        HandWired((sandbox) =>
          Credentials.layerPassword({
            username: sandbox.username,
            password: "wrong-secret",
            tokenUrl: sandbox.tokenUrl
          })
        )
      )
    ))

  it.effect("a fixed token the API does not know: Unauthorized 401, not retried", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag !== "Unauthorized") return
      assert.strictEqual(error.status, 401)
      assert.strictEqual(error.message, named("invalid username or API key", id))
      assert.isUndefined(error.renewable)
      assert.deepStrictEqual(yield* routes, ["download 401"])
    }).pipe(Effect.provide(HandWired(() => Credentials.layerToken(Redacted.make("sbx.made-up"))))))

  it.effect("spans: the call and its token request, not the platform's http.client; none holds the secret", () =>
    Effect.gen(function*() {
      const { spans, tracer } = yield* captureSpans
      const id = yield* createTask()
      yield* getDownloadUrls(id).pipe(Effect.withTracer(tracer))
      assert.deepStrictEqual(spans.map((span) => span.name).sort(), [
        "Credentials.requestToken",
        "TextRevealClient.getDownloadUrls"
      ])
      for (const span of spans) {
        assertNothingPrinted(`the span ${span.name}`, span.attributes, ["sandbox-secret"])
        if (span.status._tag === "Ended") {
          assertNothingPrinted(`the exit of ${span.name}`, span.status.exit, ["sandbox-secret"])
        }
      }
    }).pipe(Effect.provide(SandboxClient())))
})

// ---- faults

layer(SandboxClient())("TextRevealClient against the sandbox: faults", (it) => {
  /** Injects a fault on the download route, for the test's scope: the sandbox is shared by the block. */
  const inject = (fault: Sandbox.Fault, schedule?: Sandbox.FaultSchedule) =>
    Effect.flatMap(
      Sandbox.Sandbox,
      (sandbox) => Effect.acquireRelease(sandbox.injectFault("download", fault, schedule), () => sandbox.clearFaults)
    )

  it.scoped("429 twice, then success: each wait a random part of its exponential bound (1 s, 2 s)", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.TooManyRequests({}), { times: 2 })
      const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0.5])))
      assert.strictEqual(successOf(exit).length, 2)
      assert.deepStrictEqual(retries, [retry(1, 429, "rate_limited", "500ms"), retry(2, 429, "rate_limited", "1s")])
      assert.deepStrictEqual(yield* downloads(id), [[429, "TooManyRequests"], [429, "TooManyRequests"], [200, null]])
      assert.deepStrictEqual(yield* sentAt(id), [0, 500, 1500])
    }))

  it.scoped.each([
    { client: {}, attempts: 9 },
    { client: { retry: { times: 2 } }, attempts: 3 }
  ])(
    "429 forever: gives up with TooManyRequests after $attempts requests",
    ({ attempts, client }) =>
      Effect.gen(function*() {
        const id = yield* createTask()
        yield* inject(Sandbox.Fault.TooManyRequests({}), { times: 100 })
        const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "TooManyRequests")
        if (error._tag !== "TooManyRequests") return
        assert.strictEqual(error.status, 429)
        assert.strictEqual(error.attempts, attempts)
        assert.strictEqual(error.reason, "too_many_requests")
        assert.strictEqual(error.message, named("You have too many exports in progress.", id))
        assert.isUndefined(error.retryAfter)
        assert.strictEqual(retries.length, attempts - 1)
        assert.strictEqual((yield* downloads(id)).length, attempts)
      }).pipe(Effect.provide(SandboxClient({ client })))
  )

  it.scoped("429 six times, then 5xx forever: ServerError after 9 requests in all (maxAttempts), not 10", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.TooManyRequests({}), { times: 6 })
      yield* inject(Sandbox.Fault.ServerError({}), { times: 100 })
      const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "ServerError")
      if (error._tag !== "ServerError") return
      assert.strictEqual(error.attempts, 9)
      // The transient budget (3 retries) would allow one more: the cap of 9 requests per call ends it.
      assert.deepStrictEqual(retries.map((r) => r.reason), [
        ...Array.from({ length: 6 }, () => "rate_limited"),
        "transient",
        "transient"
      ])
      assert.strictEqual((yield* downloads(id)).length, 9)
    }))

  it.scoped("an HTML 503 from a proxy, then success: retried after the transient backoff (500 ms)", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.ServerError({ status: 503, html: true }))
      const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
      assert.strictEqual(successOf(exit).length, 2)
      assert.deepStrictEqual(retries, [retry(1, 503, "transient", "500ms")])
      assert.deepStrictEqual(yield* downloads(id), [[503, "ServerError"], [200, null]])
    }))

  it.scoped("5xx forever (JSON): ServerError after 4 requests, 0.5 s, 1 s and 2 s apart", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.ServerError({}), { times: 100 })
      const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "ServerError")
      if (error._tag !== "ServerError") return
      assert.strictEqual(error.status, 500)
      assert.strictEqual(error.attempts, 4)
      assert.strictEqual(error.reason, "internal")
      assert.strictEqual(error.message, named("Internal server error", id))
      assert.deepStrictEqual(retries.map((r) => r.delay), ["500ms", "1s", "2s"])
      assert.deepStrictEqual(yield* sentAt(id), [0, 500, 1500, 3500])
    }))

  it.scoped("5xx forever (HTML 502): ServerError after 4 requests, with an excerpt of the page", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.ServerError({ status: 502, html: true }), { times: 100 })
      const { exit } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "ServerError")
      if (error._tag !== "ServerError") return
      assert.strictEqual(error.status, 502)
      assert.strictEqual(error.attempts, 4)
      assert.strictEqual(error.reason, "unknown")
      assert.include(error.excerpt ?? "", "502 Bad Gateway")
      assert.notInclude(error.excerpt ?? "", "<")
      assert.strictEqual((yield* downloads(id)).length, 4)
    }))

  it.scoped.each(
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
      assert.deepStrictEqual(yield* downloads(id), [[200, fault._tag]])
      // The next call is answered normally.
      assert.strictEqual((yield* getDownloadUrls(id)).length, 2)
    }))

  // A body cut short of its `Content-Length` breaks the body read: a transport failure, retried as one.
  it.scoped("DropConnection on the download body: RequestError Transport, retried, then the URLs", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.DropConnection({ afterBytes: 10 }))
      const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
      assert.strictEqual(successOf(exit).length, 2)
      assert.deepStrictEqual(retries, [retry(1, "transport", "transient", "500ms")])
      assert.deepStrictEqual(yield* downloads(id), [[200, "DropConnection"], [200, null]])
    }))

  it.scoped("DropConnection on every download body: RequestError Transport after 4 requests", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.DropConnection({ afterBytes: 10 }), { times: 10 })
      const { exit } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag !== "RequestError") return
      assert.strictEqual(error.reason, "Transport")
      assert.deepStrictEqual(Object.entries(error.request.headers), [])
      assert.strictEqual((yield* downloads(id)).length, 4)
    }))

  it.scoped("an answer that does not come within the per-attempt timeout (30 s): abandoned and retried", () =>
    Effect.gen(function*() {
      // A token in hand: the call below starts its attempt, and its timer, without waiting on a socket.
      yield* getDownloadUrls(yield* createTask())
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.SlowBody({ delay: "1 hour" }))
      const { exit, retries } = yield* runRetrying(
        getDownloadUrls(id).pipe(Effect.withRandomFixed([0])),
        TestClock.adjust("30 seconds")
      )
      assert.strictEqual(successOf(exit).length, 2)
      assert.deepStrictEqual(retries, [retry(1, "timeout", "transient", "500ms")])
      assert.deepStrictEqual(yield* sentAt(id), [0, 30_500])
      assert.deepStrictEqual(yield* downloads(id), [[200, "SlowBody"], [200, null]])
    }))

  it.scoped("Retry-After: 0 is honoured: each wait is the jitter alone (under 100 ms), not the backoff", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: 0 }), { times: 3 })
      // With this draw a 429 without Retry-After would wait 500 ms, 1 s, then 2 s.
      const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0.5])))
      assert.strictEqual(successOf(exit).length, 2)
      assert.deepStrictEqual(retries.map((r) => r.delay), ["50ms", "50ms", "50ms"])
      assert.deepStrictEqual(yield* sentAt(id), [0, 50, 100, 150])
    }))

  it.scoped.each([
    { jitter: "none drawn", draw: 0, delay: "2s", wait: 2_000 },
    { jitter: "the largest drawn", draw: 0.99, delay: "2s 396ms", wait: 2_396 }
  ])(
    "Retry-After: 2 (seconds), jitter $jitter: the next request is sent $wait ms later",
    ({ delay, draw, wait }) =>
      Effect.gen(function*() {
        const id = yield* createTask()
        yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: 2 }))
        const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([draw])))
        assert.strictEqual(successOf(exit).length, 2)
        // The server's wait, plus up to 20% of it.
        assert.deepStrictEqual(retries, [retry(1, 429, "rate_limited", delay)])
        assert.deepStrictEqual(yield* downloads(id), [[429, "TooManyRequests"], [200, null]])
        assert.deepStrictEqual(yield* sentAt(id), [0, wait])
      })
  )

  it.scoped("Retry-After as an HTTP date: the wait runs until that date, by Clock", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      const now = yield* Clock.currentTimeMillis
      const at = (Math.floor(now / 1000) + 30) * 1000
      yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: new Date(at).toUTCString() }))
      const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
      assert.strictEqual(successOf(exit).length, 2)
      assert.deepStrictEqual(retries.map((r) => millisOf(r.delay)), [at - now])
      assert.deepStrictEqual(yield* sentAt(id), [0, at - now])
    }))

  it.scoped("a Retry-After beyond maxRetryAfter (5 minutes) fails at once with it, after one request", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: 600 }))
      const error = yield* Effect.flip(getDownloadUrls(id))
      assert.strictEqual(error._tag, "TooManyRequests")
      if (error._tag !== "TooManyRequests") return
      assert.strictEqual(error.attempts, 1)
      assert.deepStrictEqual(error.retryAfter, Duration.seconds(600))
      assert.strictEqual((yield* downloads(id)).length, 1)
    }))

  it.scoped("Retry-After: 200 forever: one wait, then TooManyRequests, as a second would pass maxRetryTime (5 min)", () =>
    Effect.gen(function*() {
      const id = yield* createTask()
      yield* inject(Sandbox.Fault.TooManyRequests({ retryAfter: 200 }), { times: 100 })
      const { exit, retries } = yield* runRetrying(getDownloadUrls(id).pipe(Effect.withRandomFixed([0])))
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "TooManyRequests")
      if (error._tag !== "TooManyRequests") return
      assert.strictEqual(error.attempts, 2)
      assert.deepStrictEqual(retries, [retry(1, 429, "rate_limited", "3m 20s")])
      assert.deepStrictEqual(yield* sentAt(id), [0, 200_000])
    }))

  it.scoped("the retry budget is shared by the calls of a client: once spent, a call fails at its first 5xx", () =>
    Effect.gen(function*() {
      const first = yield* createTask()
      const second = yield* createTask()
      yield* inject(Sandbox.Fault.ServerError({}), { times: 100 })
      // A budget of 10 pays for two retries (5 each).
      const once = failureOf((yield* runRetrying(getDownloadUrls(first).pipe(Effect.withRandomFixed([0])))).exit)
      const twice = failureOf((yield* runRetrying(getDownloadUrls(second).pipe(Effect.withRandomFixed([0])))).exit)
      assert.deepStrictEqual([once._tag, twice._tag], ["ServerError", "ServerError"])
      if (once._tag !== "ServerError" || twice._tag !== "ServerError") return
      assert.deepStrictEqual([once.attempts, twice.attempts], [3, 1])
      assert.deepStrictEqual([(yield* downloads(first)).length, (yield* downloads(second)).length], [3, 1])
    }).pipe(Effect.provide(SandboxClient({ client: { retryBudget: { capacity: 10 } } }))))

  it.scoped("ExpireEarly: a URL refused as expired by the file host is replaced by asking again", () =>
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
    }))
})

// `SlowBody` waits between pieces with the sandbox's `Clock`: live here, so that the pieces go out apart
// on the socket (a millisecond each), with a sandbox of its own.
it.live("SlowBody on the download answer, in 64-byte pieces: the URLs arrive whole", () =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const id = yield* createTask()
    const normal = yield* getDownloadUrls(id)
    yield* sandbox.injectFault("download", Sandbox.Fault.SlowBody({ delay: "1 millis", chunkSize: 64 }))
    const slow = yield* getDownloadUrls(id)
    assert.deepStrictEqual(slow.map((u) => u.fileName), normal.map((u) => u.fileName))
    assert.deepStrictEqual(yield* downloads(id), [[200, null], [200, "SlowBody"]])
  }).pipe(Effect.provide(SandboxClient())))
