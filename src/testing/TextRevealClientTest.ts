/**
 * An in-memory `TextRevealClient` for testing code that uses the client: it answers from data the test
 * gives and records the calls it received. No HTTP, no sockets.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as DownloadUrl from "../DownloadUrl.js"
import * as ExportResource from "../internal/exportResource.js"
import { validateTaskId } from "../internal/validateTaskId.js"
import * as Wire from "../internal/wire.js"
import * as Task from "../Task.js"
import * as TaskId from "../TaskId.js"
import * as TextRevealClient from "../TextRevealClient.js"
import * as TextRevealError from "../TextRevealError.js"

/**
 * An error a call can fail with.
 *
 * @since 0.2.0
 * @category models
 */
export type Failure = TextRevealError.TextRevealError | HttpClientError.HttpClientError

/**
 * One answer to `getDownloadUrls`: the signed URLs to return, or the error to fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type Answer = ReadonlyArray<string> | Failure

const SequenceTypeId: unique symbol = Symbol.for("effect-textreveal/testing/TextRevealClientTest/Sequence")

/**
 * Answers given one per call, in order; the last one repeats.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sequence<A = Answer> {
  readonly [SequenceTypeId]: typeof SequenceTypeId
  readonly answers: readonly [A, ...Array<A>]
}

/**
 * Answers a task's calls in turn, e.g. `sequence(TextRevealClientTest.tooManyRequests(), ["https://…/a.csv"])`.
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * // Not completed on the first call, then two URLs, then (the last answer repeating) the same URLs.
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": TextRevealClientTest.sequence(
 *     TextRevealClientTest.taskNotCompleted(),
 *     ["https://files.textreveal.com/exports/a.csv", "https://files.textreveal.com/exports/b.csv"]
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export function sequence(...answers: readonly [Answer, ...Array<Answer>]): Sequence<Answer>
export function sequence(
  ...answers: readonly [Task.TaskStatus | Failure, ...Array<Task.TaskStatus | Failure>]
): Sequence<Task.TaskStatus | Failure>
export function sequence(...answers: readonly [ExportAnswer, ...Array<ExportAnswer>]): Sequence<ExportAnswer>
export function sequence<A>(...answers: readonly [A, ...Array<A>]): Sequence<A> {
  return { [SequenceTypeId]: SequenceTypeId, answers }
}

/**
 * One answer to `startExport`: the id of the task it starts (a UUID), or the error to fail with (e.g.
 * {@link exportInProgress}).
 *
 * @since 0.4.0
 * @category models
 */
export type ExportAnswer = string | Failure

/**
 * Options of {@link layer}.
 *
 * @since 0.4.0
 * @category models
 */
export interface Options {
  /**
   * The answers to `startExport`, a fixed one or a {@link sequence}. Default: none, every `startExport` is a
   * `NotFound` naming the resource.
   */
  readonly exports?: ExportAnswer | Sequence<ExportAnswer> | undefined
}

/**
 * What the test layer knows of one task: its download URLs, its status, or both; each a fixed answer or a
 * {@link sequence}.
 *
 * @since 0.2.0
 * @category models
 */
export interface TaskAnswers {
  readonly urls?: Answer | Sequence<Answer> | undefined
  readonly status?: Task.TaskStatus | Failure | Sequence<Task.TaskStatus | Failure> | undefined
}

/**
 * A call the client received.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly method: "getDownloadUrls" | "getTaskStatus" | "listTasks" | "startExport"
  readonly taskId?: string
  /** `startExport`: the resource, as given. @since 0.4.0 */
  readonly resource?: string
  /** `startExport`: the body, as given (`{}` when absent). @since 0.4.0 */
  readonly body?: Readonly<Record<string, unknown>>
}

/**
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * // calls: what the code under test asked, oldest first.
 * export const methodsCalled = Effect.gen(function*() {
 *   const client = yield* TextRevealClient.TextRevealClient
 *   yield* client.getTaskStatus("f47ac10b-58cc-4372-a567-0e02b2c3d479")
 *   const { calls } = yield* TextRevealClientTest.TextRevealClientTest
 *   return (yield* calls).map((call) => call.method) // ["getTaskStatus"]
 * }).pipe(
 *   Effect.provide(TextRevealClientTest.layer({ "f47ac10b-58cc-4372-a567-0e02b2c3d479": { status: "completed" } }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The calls received so far, oldest first. Calls refused for a malformed task id are included. */
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
}

/**
 * The recorder of calls, provided next to the client by {@link layer}.
 *
 * @since 0.1.0
 * @category tags
 */
export class TextRevealClientTest
  extends Context.Tag("effect-textreveal/testing/TextRevealClientTest")<TextRevealClientTest, Service>()
{}

// ---------------------------------------------------------------------------------------------------------
// Answers: typed errors as the real client gives them
// ---------------------------------------------------------------------------------------------------------

/**
 * The 404 of a task that does not exist or is not visible.
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": TextRevealClientTest.notFound()
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const notFound = (
  message = "The requested task does not exist or is not visible to you."
): TextRevealError.NotFound => new TextRevealError.NotFound({ status: 404, message, reason: "not_found" })

/**
 * A 429 after the retries ran out, with the server's `Retry-After` when given.
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": TextRevealClientTest.tooManyRequests({ retryAfter: "30 seconds" })
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const tooManyRequests = (options: {
  readonly retryAfter?: Duration.DurationInput | undefined
  readonly attempts?: number | undefined
} = {}): TextRevealError.TooManyRequests =>
  new TextRevealError.TooManyRequests({
    status: 429,
    message: "You have too many exports in progress.",
    reason: "too_many_requests",
    attempts: options.attempts ?? 9,
    ...(options.retryAfter === undefined ? {} : { retryAfter: Duration.decode(options.retryAfter) })
  })

/**
 * The 429 of `startExport` while another export holds the account's slot (`exportInProgress` true), as the
 * real client gives it when it stops waiting: with the export it found running, when given.
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": ["https://files.textreveal.com/exports/a.csv"]
 * }, {
 *   exports: TextRevealClientTest.exportInProgress({ runningTaskId: "f47ac10b-58cc-4372-a567-0e02b2c3d479" })
 * })
 * ```
 *
 * @since 0.4.0
 * @category constructors
 */
export const exportInProgress = (options: {
  readonly runningTaskId?: string | undefined
  readonly attempts?: number | undefined
} = {}): TextRevealError.TooManyRequests =>
  new TextRevealError.TooManyRequests({
    status: 429,
    message: `You have too many exports in progress. (${TextRevealError.exportMethod})`,
    reason: "too_many_requests",
    attempts: options.attempts ?? 1,
    method: TextRevealError.exportMethod,
    ...(options.runningTaskId === undefined ? {} : { runningTaskId: options.runningTaskId })
  })

/**
 * A 5xx after the retries ran out.
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": TextRevealClientTest.serverError({ status: 503 })
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const serverError = (
  options: { readonly status?: number | undefined; readonly attempts?: number | undefined } = {}
) =>
  new TextRevealError.ServerError({
    status: options.status ?? 500,
    message: "The server returned an unexpected response",
    reason: "internal",
    attempts: options.attempts ?? 4
  })

/**
 * A token the API refused.
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": TextRevealClientTest.unauthorized()
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const unauthorized = (message = "invalid username or API key"): TextRevealError.Unauthorized =>
  new TextRevealError.Unauthorized({ status: 401, message, reason: "unauthorized" })

/**
 * A resource the token may not access.
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": TextRevealClientTest.forbidden()
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const forbidden = (message = "Not authorized to access this resource"): TextRevealError.Forbidden =>
  new TextRevealError.Forbidden({ status: 403, message, reason: "forbidden" })

/**
 * The 400 of a task that has not completed yet (`Invalid` with `taskNotCompleted` true).
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": {
 *     urls: TextRevealClientTest.taskNotCompleted("starting"),
 *     status: "starting"
 *   }
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const taskNotCompleted = (status: "starting" | "running" = "running"): TextRevealError.Invalid =>
  new TextRevealError.Invalid({
    status: 400,
    message: `The task is not completed yet (status: ${status}).`,
    reason: "invalid",
    errors: [
      new TextRevealError.FieldError({
        field: "task_id",
        message: `The task is not completed yet (status: ${status}).`,
        reason: TextRevealError.taskNotCompletedReason
      })
    ]
  })

/**
 * The 400 of a task that failed (`Invalid` with `taskFailed` true): its results will never come.
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * export const TestLayer = TextRevealClientTest.layer({
 *   "f47ac10b-58cc-4372-a567-0e02b2c3d479": { urls: TextRevealClientTest.taskFailed(), status: "failed" }
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const taskFailed = (): TextRevealError.Invalid =>
  new TextRevealError.Invalid({
    status: 400,
    message: "An error occured while processing the task.",
    reason: "internal",
    errors: [
      new TextRevealError.FieldError({
        field: "task_id",
        message: "An error occured while processing the task.",
        reason: TextRevealError.taskFailedReason
      })
    ]
  })

// ---------------------------------------------------------------------------------------------------------
// The layer
// ---------------------------------------------------------------------------------------------------------

const isSequence = (u: unknown): u is Sequence<unknown> => Predicate.hasProperty(u, SequenceTypeId)

const decodeUrls = Schema.decodeUnknownEither(Wire.DownloadUrlsBody)

/** A task as `listTasks` gives it: with its status when that is a fixed one, without it otherwise. */
const listed = (id: string, status: NonNullable<TaskAnswers["status"]>): Task.Task =>
  new Task.Task(
    Predicate.isString(status) ? { id: TaskId.TaskId.make(id), status } : { id: TaskId.TaskId.make(id) }
  )

/**
 * A `TextRevealClient` answering from `tasks`, keyed by task id (in any case): for each task its URLs, or
 * `{ urls, status }`. A task that is not there answers `NotFound`, a task id that is not a UUID `Invalid`,
 * as the real client does; a task given without a status answers `completed`. URLs expire 5 minutes after
 * the call, by `Clock`. `listTasks` lists the tasks given, in order. `startExport` answers from
 * `options.exports` (a resource that is not usable fails with `Invalid` first, as the real client does; no
 * wait for the export slot is modelled: a 429 given is the answer). Also provides {@link TextRevealClientTest}
 * to read the calls received.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * // The code under test.
 * const fileNames = (id: string) =>
 *   Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(id)).pipe(
 *     Effect.map((urls) => urls.map((url) => url.fileName))
 *   )
 *
 * // In a test: Effect.flip(fileNames(...)) is the Invalid error, then fileNames(...) gives ["a.csv"].
 * export const twoCalls = Effect.gen(function*() {
 *   const first = yield* Effect.flip(fileNames("f47ac10b-58cc-4372-a567-0e02b2c3d479"))
 *   const second = yield* fileNames("f47ac10b-58cc-4372-a567-0e02b2c3d479")
 *   return { notCompleted: first._tag === "Invalid" && first.taskNotCompleted, second }
 * }).pipe(
 *   Effect.provide(TextRevealClientTest.layer({
 *     "f47ac10b-58cc-4372-a567-0e02b2c3d479": TextRevealClientTest.sequence(
 *       TextRevealClientTest.taskNotCompleted(),
 *       ["https://files.textreveal.com/exports/task=f47ac10b-58cc-4372-a567-0e02b2c3d479/a.csv"]
 *     )
 *   }))
 * )
 * ```
 *
 * @example
 * ```ts
 * import { TextRevealClientTest } from "effect-textreveal/testing"
 *
 * // Its status answers and its exports: startExport gives the task id, then the task completes.
 * export const TestLayer = TextRevealClientTest.layer(
 *   {
 *     "f47ac10b-58cc-4372-a567-0e02b2c3d479": {
 *       urls: ["https://files.textreveal.com/exports/a.csv"],
 *       status: TextRevealClientTest.sequence("running", "completed")
 *     }
 *   },
 *   { exports: "f47ac10b-58cc-4372-a567-0e02b2c3d479" }
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  tasks: Readonly<Record<string, Answer | Sequence<Answer> | TaskAnswers>>,
  options: Options = {}
): Layer.Layer<TextRevealClient.TextRevealClient | TextRevealClientTest> =>
  Layer.effectContext(Effect.gen(function*() {
    const byId = new Map(
      Object.entries(tasks).map(([id, given]) => {
        const answers: TaskAnswers = Array.isArray(given) || isSequence(given) || Predicate.hasProperty(given, "_tag")
          ? { urls: given as Answer | Sequence<Answer> }
          : given as TaskAnswers
        return [id.toLowerCase(), answers] as const
      })
    )
    const calls = yield* Ref.make(Chunk.empty<Call>())
    const served = yield* Ref.make(new Map<string, number>())

    /** The n-th answer of a sequence, the last repeating; a fixed answer always. */
    const nextOf = <A>(key: string, given: A | Sequence<A>) =>
      Ref.modify(served, (counts): [A, Map<string, number>] => {
        const n = counts.get(key) ?? 0
        const next = new Map(counts).set(key, n + 1)
        if (!isSequence(given)) return [given, next]
        return [given.answers[Math.min(n, given.answers.length - 1)] as A, next]
      })

    const taskCall = <A>(
      method: "getDownloadUrls" | "getTaskStatus",
      taskId: string,
      answer: (id: string, given: TaskAnswers) => Effect.Effect<A, Failure>
    ) =>
      Effect.gen(function*() {
        yield* Ref.update(calls, Chunk.append<Call>({ method, taskId }))
        const id = yield* validateTaskId(taskId)
        const given = byId.get(id)
        if (given === undefined) return yield* notFound()
        return yield* answer(id, given)
      })

    const getDownloadUrls = (taskId: string) =>
      taskCall("getDownloadUrls", taskId, (id, given) =>
        Effect.gen(function*() {
          if (given.urls === undefined) return yield* notFound()
          const answer = yield* nextOf(`urls:${id}`, given.urls)
          if (!Array.isArray(answer)) return yield* Effect.fail(answer as Failure)
          const decoded = decodeUrls(answer)
          // URLs that are not URLs are a mistake in the test itself, not a failure the code under test handles.
          if (Either.isLeft(decoded)) {
            return yield* Effect.dieMessage(
              `TextRevealClientTest: the URLs given for task ${id} are not valid URLs of files`
            )
          }
          const expiresAt = DateTime.addDuration(yield* DateTime.now, DownloadUrl.validity)
          return decoded.right.map((url) => new DownloadUrl.DownloadUrl({ ...url, expiresAt }))
        }))

    const getTaskStatus = (taskId: string) =>
      taskCall("getTaskStatus", taskId, (id, given) =>
        Effect.flatMap(nextOf(`status:${id}`, given.status ?? "completed"), (status) =>
          Predicate.isString(status) ? Effect.succeed(status) : Effect.fail(status)))

    const listTasks = () =>
      Stream.unwrap(Effect.as(
        Ref.update(calls, Chunk.append<Call>({ method: "listTasks" })),
        Stream.fromIterable([...byId].map(([id, given]) =>
          listed(id, given.status ?? "completed")
        ))
      ))

    const startExport = (resource: string, body: Readonly<Record<string, unknown>> = {}) =>
      Effect.gen(function*() {
        yield* Ref.update(calls, Chunk.append<Call>({ method: "startExport", resource, body }))
        yield* ExportResource.validate(resource)
        if (options.exports === undefined) {
          return yield* new TextRevealError.NotFound({
            status: 404,
            message: `TextRevealClientTest was given no answer to startExport (${resource})`,
            reason: "not_found",
            method: TextRevealError.exportMethod
          })
        }
        const answer = yield* nextOf("export", options.exports)
        if (!Predicate.isString(answer)) {
          return yield* Effect.fail(answer)
        }
        const id = answer.toLowerCase()
        // An id that is not a UUID is a mistake in the test itself.
        if (!TaskId.is(id)) {
          return yield* Effect.dieMessage(`TextRevealClientTest: ${answer} is not a task id`)
        }
        return id
      })

    // Requests of the client's own are not modelled: each is a NotFound naming it.
    const client = HttpClient.makeWith<never, never, Failure, never>(
      (request) =>
        Effect.flatMap(request, (sent) =>
          Effect.fail(
            new TextRevealError.NotFound({
              status: 404,
              message: `TextRevealClientTest answers no ${sent.method} ${sent.url}`,
              reason: "not_found",
              method: `${sent.method} ${sent.url}`
            })
          )),
      Effect.succeed
    )

    return Context.make(
      TextRevealClient.TextRevealClient,
      TextRevealClient.TextRevealClient.of({ getDownloadUrls, getTaskStatus, listTasks, startExport, client })
    ).pipe(Context.add(TextRevealClientTest, { calls: Effect.map(Ref.get(calls), Chunk.toReadonlyArray) }))
  }))
