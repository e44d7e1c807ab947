/**
 * The TextReveal API as an Effect service.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import { flow, identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Credentials from "./Credentials.js"
import * as DownloadUrl from "./DownloadUrl.js"
import { parseBaseUrl } from "./internal/baseUrl.js"
import { decodeFailure, decodeJson } from "./internal/decodeBody.js"
import { type ApiCall, fromApiResponse } from "./internal/errorResponse.js"
import * as ExportResource from "./internal/exportResource.js"
import * as ExportSlot from "./internal/exportSlot.js"
import * as Metrics from "./internal/metrics.js"
import * as Pagination from "./internal/pagination.js"
import { redactError } from "./internal/redact.js"
import { mebibytes, readWhole } from "./internal/responseBody.js"
import * as RetryBudget from "./internal/retryBudget.js"
import * as RetryPolicy from "./internal/retryPolicy.js"
import { makeScrub, type Scrub } from "./internal/secrets.js"
import { withTimeout } from "./internal/timeout.js"
import { validateTaskId } from "./internal/validateTaskId.js"
import { userAgent } from "./internal/version.js"
import * as Wire from "./internal/wire.js"
import type * as Retry from "./Retry.js"
import * as Task from "./Task.js"
import type * as TaskId from "./TaskId.js"
import * as TextRevealError from "./TextRevealError.js"

/**
 * The documented API base URL.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "https://api.textreveal.com/v3"

/**
 * @since 0.1.0
 * @category options
 */
export type RateLimitRetryOptions = Retry.RateLimitOptions

/**
 * @since 0.1.0
 * @category options
 */
export type TransientRetryOptions = Retry.TransientOptions

/**
 * @since 0.1.0
 * @category options
 */
export interface Options extends Retry.Options {
  /**
   * The API base URL: `http(s)://host[:port]/…/v3`, without credentials, query or fragment.
   * Default: {@link defaultBaseUrl}.
   */
  readonly baseUrl?: string | undefined
  /** The retry budget shared by every call of this client, or `false` for none. Default: see {@link Retry.BudgetOptions}. */
  readonly retryBudget?: false | Retry.BudgetOptions | undefined
  /** The longest a call may take in all, attempts and waits included. Default: none (bounded by the retry options). */
  readonly deadline?: Duration.DurationInput | undefined
  /** Largest JSON body read from the API, in bytes. Default: 8 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** A hook applied last to the configured `HttpClient`, e.g. to add a header or log calls. Default: none. */
  readonly transformClient?:
    | ((client: HttpClient.HttpClient.With<ApiError>) => HttpClient.HttpClient.With<ApiError>)
    | undefined
}

/**
 * Everything a call to the API can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type ApiError = TextRevealError.TextRevealError | HttpClientError.HttpClientError

/**
 * Options of {@link Service.listTasks}.
 *
 * @since 0.2.0
 * @category options
 */
export interface ListTasksOptions {
  /** Tasks per page, 1 to 1000. Default: 100. */
  readonly size?: number | undefined
  /** The fields to return (`id` is always returned). Default: all. */
  readonly fields?: ReadonlyArray<Task.TaskField> | undefined
  /** Sort keys, 1 to 3, e.g. `["created_at:desc"]`. Default: the API's order. */
  readonly order?: ReadonlyArray<Task.TaskOrder> | undefined
  /**
   * The most pages one listing may fetch; a server still saying `has_next` after that many ends the stream
   * with a `ResponseError` (`Decode`). Default: {@link defaultMaxPages}.
   *
   * @since 0.3.0
   */
  readonly maxPages?: number | undefined
}

/**
 * The most pages one `listTasks` fetches unless told otherwise: 10,000.
 *
 * @since 0.3.0
 * @category constants
 */
export const defaultMaxPages = 10_000

/**
 * Options of {@link Service.startExport}.
 *
 * @since 0.4.0
 * @category options
 */
export interface StartExportOptions {
  /**
   * How long to wait for the account's one export slot when another export holds it (a 429 "You have too
   * many exports in progress."): the running export is found, waited for, and the request sent again.
   * `false` fails at once with the `TooManyRequests` (`exportInProgress` true). Default: 2 hours.
   */
  readonly waitForSlot?: Duration.DurationInput | false | undefined
}

/**
 * The default bound of the wait for the export slot.
 *
 * @since 0.4.0
 * @category constants
 */
export const defaultWaitForSlot: Duration.Duration = Duration.hours(2)

/**
 * @example
 * ```ts
 * // getDownloadUrls: the signed URLs of a completed task's files.
 * import { Console, DateTime, Effect } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 *
 * export const printUrls = Effect.gen(function*() {
 *   const client = yield* TextRevealClient.TextRevealClient
 *   const urls = yield* client.getDownloadUrls("f47ac10b-58cc-4372-a567-0e02b2c3d479")
 *   const now = yield* DateTime.now
 *   for (const url of urls) {
 *     // Fetch url.url with a plain GET, never with the API token.
 *     yield* Console.log(url.fileName, url.isExpiredAt(now) ? "expired" : DateTime.formatIso(url.expiresAt))
 *   }
 * })
 * ```
 *
 * @example
 * ```ts
 * // getTaskStatus: "starting" | "running" | "failed" | "completed".
 * import { Effect } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 *
 * export const isOver = (taskId: string) =>
 *   Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getTaskStatus(taskId)).pipe(
 *     Effect.map((status) => status === "completed" || status === "failed")
 *   )
 * ```
 *
 * @example
 * ```ts
 * // listTasks: a Stream of tasks, each page fetched when the stream pulls it.
 * import { Console, Effect, Stream } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 *
 * export const recentTasks = Effect.gen(function*() {
 *   const client = yield* TextRevealClient.TextRevealClient
 *   yield* client.listTasks({ size: 50, order: ["created_at:desc"] }).pipe(
 *     Stream.take(10),
 *     Stream.runForEach((task) => Console.log(task.id, task.status, task.description))
 *   )
 * })
 * ```
 *
 * @example
 * ```ts
 * // startExport: POST /v3/<resource>/export, the id of the task it starts.
 * import { Effect } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 *
 * export const start = Effect.gen(function*() {
 *   const client = yield* TextRevealClient.TextRevealClient
 *   // waitForSlot: false fails at once with TooManyRequests (exportInProgress) while another export runs.
 *   return yield* client.startExport(
 *     "universes/7d1e2f3a-0000-4000-8000-000000000001/entities",
 *     { fields: ["entity_id", "name", "sentiment"] },
 *     { waitForSlot: "30 minutes" }
 *   )
 * })
 * ```
 *
 * @example
 * ```ts
 * // client: an endpoint the library does not model, with the same auth, retries, limits and redaction.
 * import { HttpClientRequest } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 *
 * const Universe = Schema.Struct({ id: Schema.String, name: Schema.String })
 *
 * export const universe = (universeId: string) =>
 *   Effect.flatMap(TextRevealClient.TextRevealClient, ({ client }) =>
 *     client.execute(HttpClientRequest.get(`/universes/${universeId}`)).pipe(
 *       Effect.flatMap((response) => response.json),
 *       Effect.flatMap(Schema.decodeUnknown(Universe))
 *     ))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * `GET /tasks/{task_id}/download`: the signed URLs of the task's files, in the order the API gives them,
   * each valid for 5 minutes. A task id that is not a UUID fails with `Invalid` and sends nothing.
   */
  readonly getDownloadUrls: (taskId: string) => Effect.Effect<ReadonlyArray<DownloadUrl.DownloadUrl>, ApiError>
  /** `GET /tasks/{task_id}/status`: the task's current state. */
  readonly getTaskStatus: (taskId: string) => Effect.Effect<Task.TaskStatus, ApiError>
  /**
   * `GET /tasks`: every task of the account, page by page through `search_after`; the next page is fetched
   * only when the stream pulls it. Bad options fail with `Invalid` before anything is sent. A cursor the server
   * gave before, or more than `maxPages` pages, ends the stream with a `ResponseError` (`Decode`).
   */
  readonly listTasks: (options?: ListTasksOptions) => Stream.Stream<Task.Task, ApiError>
  /**
   * `POST /<resource>/export` with `body` as JSON (`{}` when absent): starts an export task and gives its id
   * (lower case). `resource` is the path between `/v3/` and `/export`, e.g. `universes/<id>/entities`; a bad
   * one fails with `Invalid` (field `resource`), a body that is not JSON with `Invalid` (field `body`), before
   * anything is sent. A 5xx or a 429 is retried; a transport failure or a timeout after the request was sent
   * is not (the export may have started). When another export holds the account's slot, it waits for it
   * (see {@link StartExportOptions.waitForSlot}).
   *
   * @since 0.4.0
   */
  readonly startExport: (
    resource: string,
    body?: Readonly<Record<string, unknown>> | undefined,
    options?: StartExportOptions | undefined
  ) => Effect.Effect<TaskId.TaskId, ApiError>
  /**
   * The configured `HttpClient` the methods use: base URL, `Accept`, `User-Agent`, the bearer token (renewed
   * when rejected), a time limit per attempt, bounded bodies, statuses mapped to the typed errors, retries,
   * the retry budget, redaction and `transformClient`. Paths are relative to the base URL, e.g.
   * `client.post("/universes/u1/entities/export")`. A 2xx answer comes back with its body read (at most
   * `maxBodyBytes`); any other status fails with its typed error. Requests other than GET, HEAD, PUT, DELETE
   * and OPTIONS are retried only after a 429 or a token renewal, never after a 5xx, a transport failure or a
   * timeout (the server may have acted on them).
   *
   * @since 0.3.0
   */
  readonly client: HttpClient.HttpClient.With<ApiError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TextRevealClient extends Context.Tag("effect-textreveal/TextRevealClient")<TextRevealClient, Service>() {}

const tracedCall = { captureStackTrace: false } as const

/** A header value the platform can send: visible ASCII, no spaces or line breaks. */
const sendableToken = /^[\x21-\x7e]+$/

const unsendableToken = new TextRevealError.Unauthorized({
  status: 401,
  message:
    "The token is empty or holds characters that cannot be sent in an HTTP header (a line break, a space, non-ASCII); nothing was sent",
  reason: "invalid_token"
})

/**
 * The token an attempt is sent with, from the bearer step (which obtains it) to the answer step of the same
 * attempt, in the same fiber: whether a 403 may be a token to renew depends on whether it was obtained for
 * this request.
 */
const currentAccess = FiberRef.unsafeMake<Credentials.AccessToken | undefined>(undefined)

/** Set by `startExport` around its request: the pipeline then names the call `startExport`. */
const currentExport = FiberRef.unsafeMake(false)

/** Which call a request is, read from its path: its name in errors and its task. */
interface Call {
  readonly method: string
  readonly taskId: string | undefined
}

const taskPath = /\/tasks\/([^/]+)\/(download|status)$/

const callOf = (request: HttpClientRequest.HttpClientRequest, baseUrl: string, exporting = false): Call => {
  if (exporting) return { method: TextRevealError.exportMethod, taskId: undefined }
  const task = taskPath.exec(request.url)
  if (task !== null) return { method: task[2] === "download" ? "getDownloadUrls" : "getTaskStatus", taskId: task[1] }
  if (request.url.endsWith("/tasks")) return { method: "listTasks", taskId: undefined }
  const path = request.url.startsWith(baseUrl) ? request.url.slice(baseUrl.length) : request.url
  return { method: `${request.method} ${path}`, taskId: undefined }
}

const endpoints: Readonly<Record<string, Metrics.Endpoint>> = {
  getDownloadUrls: "download",
  getTaskStatus: "status",
  listTasks: "tasks",
  [TextRevealError.exportMethod]: "export"
}

/** The endpoint a call is counted under in the metrics. */
const endpointOf = (method: string | undefined): Metrics.Endpoint =>
  (method === undefined ? undefined : endpoints[method]) ?? "other"

const idempotentMethods = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])

/**
 * Whether the request an error answers may be sent twice after a 5xx. Every method of the service is a GET
 * but `startExport`, whose 5xx answers are retried (a transport failure or a timeout is not: see
 * `verdictOn`); a request made through `client` is named `METHOD /path` in its errors.
 */
const idempotent = (error: ApiError): boolean => {
  if (HttpClientError.isHttpClientError(error)) return idempotentMethods.has(error.request.method)
  const space = error.method?.indexOf(" ") ?? -1
  return space === -1 || idempotentMethods.has(error.method!.slice(0, space))
}

/** What a metric says an attempt ended with: the status answered, or why there was none. */
const outcomeOf = (exit: Exit.Exit<unknown, ApiError>): number | "transport" | "timeout" => {
  if (Exit.isSuccess(exit)) return 200
  const error = Cause.failureOption(exit.cause)
  if (Option.isNone(error)) return "transport"
  switch (error.value._tag) {
    case "RequestError":
      return Cause.isTimeoutException(error.value.cause) ? "timeout" : "transport"
    case "ResponseError":
      return error.value.response.status
    default:
      return error.value.status
  }
}

const invalidOption = (field: string, message: string) =>
  new TextRevealError.Invalid({
    status: 400,
    message: `${field}: ${message} (listTasks)`,
    reason: "invalid",
    errors: [new TextRevealError.FieldError({ field, message, reason: "invalid" }, true)],
    method: "listTasks"
  })

const orderPattern = /^(created_at|completed_at|status):(asc|desc)$/

/** The query of `GET /tasks` for these options and the page bound, or the `Invalid` the API would answer. */
const listQuery = (
  options: ListTasksOptions
): Effect.Effect<{ readonly query: Record<string, string>; readonly maxPages: number }, TextRevealError.Invalid> => {
  const size = options.size ?? 100
  if (!Number.isInteger(size) || size < 1 || size > 1000) {
    return Effect.fail(invalidOption("size", `must be an integer from 1 to 1000, got ${size}`))
  }
  const fields = options.fields ?? []
  const unknownField = fields.find((field) => !Schema.is(Task.TaskField)(field))
  if (unknownField !== undefined) {
    return Effect.fail(invalidOption("fields", `unknown field ${JSON.stringify(String(unknownField).slice(0, 40))}`))
  }
  const order = options.order ?? []
  if (order.length > 3 || order.some((key) => !orderPattern.test(key))) {
    return Effect.fail(invalidOption("order", "takes 1 to 3 keys of the form created_at|completed_at|status:asc|desc"))
  }
  const maxPages = options.maxPages ?? defaultMaxPages
  if (!Number.isInteger(maxPages) || maxPages < 1) {
    return Effect.fail(invalidOption("maxPages", `must be a positive integer, got ${maxPages}`))
  }
  return Effect.succeed({
    query: {
      size: String(size),
      ...(fields.length > 0 ? { fields: [...new Set(["id", ...fields])].join(",") } : {}),
      ...(order.length > 0 ? { order: order.join(",") } : {})
    },
    maxPages
  })
}

const decodeDownloadUrls = decodeJson(Wire.DownloadUrlsBody, "a JSON array of signed http(s) file URLs")
const decodeStatus = decodeJson(Wire.StatusBody, "{ status: starting | running | failed | completed }")
const decodeTaskList = decodeJson(Wire.TaskListBody, "a page of tasks { data, size, has_next, count, search_after }")
const decodeExportStarted = decodeJson(Wire.ExportStartedBody, "{ task_id: <uuid> }")
const encodeExportBody = HttpClientRequest.schemaBodyJson(Wire.ExportRequestBody)

/**
 * Builds the service from an `HttpClient` and `Credentials`. The `HttpClient` is transformed once, here: base
 * URL and headers (`mapRequest`), the bearer token (`mapRequestEffect`), each answer read within the attempt's
 * time limit and mapped to its typed error, redacted (`transform`), the retry schedule (`retry`), the call's
 * deadline, then the caller's `transformClient`. Each method is a request on it and a decode.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer, Redacted } from "effect"
 * import { Credentials, TextRevealClient } from "effect-textreveal"
 *
 * // The service in a layer of your own, here with a fixed token and 10 seconds per attempt.
 * export const TextRevealLive = Layer.scoped(
 *   TextRevealClient.TextRevealClient,
 *   TextRevealClient.make({ timeout: "10 seconds" })
 * ).pipe(
 *   Layer.provide(Credentials.layerToken(Redacted.make("eyJ..."))),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const baseUrl = yield* parseBaseUrl("baseUrl", options.baseUrl ?? defaultBaseUrl, "/v3")
  const credentials = yield* Credentials.Credentials
  const policy = RetryPolicy.resolve(options)
  const budget = options.retryBudget === false ? undefined : yield* RetryBudget.make(options.retryBudget)
  const maxBodyBytes = options.maxBodyBytes ?? mebibytes(8)

  /**
   * The scrub of a token, built on the failure path only (a pattern per token) and kept for the token in use:
   * a success never pays for it.
   */
  let scrubbed: { readonly token: string; readonly scrub: Scrub } | undefined
  const scrubOf = (token: Redacted.Redacted<string> | undefined): Scrub => {
    if (token === undefined) return makeScrub([])
    const value = Redacted.value(token)
    if (scrubbed?.token !== value) scrubbed = { token: value, scrub: makeScrub([token]) }
    return scrubbed.scrub
  }

  /** The bearer step: the current token, checked to be sendable, remembered for the answer step. */
  const withToken = (request: HttpClientRequest.HttpClientRequest) =>
    Effect.flatMap(credentials.get, (access) =>
      sendableToken.test(Redacted.value(access.token))
        ? Effect.as(FiberRef.set(currentAccess, access), HttpClientRequest.bearerToken(request, access.token))
        : Effect.fail(unsendableToken))

  /** What the API's answer to `request` is, within the attempt's time limit: its body read, or its typed error. */
  const answer = (
    exchange: Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError>,
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError> =>
    Effect.withFiberRuntime((fiber) => {
      const access = fiber.getFiberRef(currentAccess)
      const token = access?.token
      const call = callOf(request, baseUrl, fiber.getFiberRef(currentExport))
      // A 403 on a token obtained for this very request is a real refusal, not a token the API stopped accepting.
      const rejects403 = access !== undefined && !access.fresh
      const apiCall: ApiCall = {
        method: call.method,
        taskId: call.taskId,
        renewable401: credentials.renewable && token !== undefined,
        renewable403: credentials.renewable && rejects403
      }
      return Effect.flatMap(Clock.currentTimeMillis, (sentAt) =>
        exchange.pipe(
          Effect.flatMap((response): Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError> =>
            response.status >= 200 && response.status < 300
              ? readWhole(response, maxBodyBytes)
              : fromApiResponse(response, scrubOf(token), apiCall)
          ),
          withTimeout(policy.timeout, request, "no complete answer from TextReveal"),
          Effect.onExit((exit) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const outcome = outcomeOf(exit)
              const meta = Context.get(fiber.currentContext, Schedule.CurrentIterationMetadata)
              const state = meta.output as RetryPolicy.State | undefined
              return Metrics.recordRequest(endpointOf(call.method), outcome, now - sentAt).pipe(
                Effect.zipRight(Effect.annotateCurrentSpan({
                  "http.response.status_code": typeof outcome === "number" ? outcome : 0,
                  "textreveal.attempts": meta.recurrence + 1
                })),
                Effect.zipRight(
                  Exit.isSuccess(exit) && budget !== undefined ? budget.refund(state?.spent ?? 0) : Effect.void
                )
              )
            })
          ),
          Effect.catchAll((error): Effect.Effect<never, ApiError> => {
            if (HttpClientError.isHttpClientError(error)) return Effect.fail(redactError(error, scrubOf(token)))
            // A rejected token is discarded, so that no call is sent with it again (renewable or not).
            const rejected = (error._tag === "Unauthorized" && error.method !== undefined) ||
              (error._tag === "Forbidden" && rejects403)
            if (rejected && token !== undefined) {
              return Effect.zipRight(credentials.invalidate(token), Effect.fail(error))
            }
            return Effect.fail(error)
          })
        ))
    })

  /** Only failures of the API's own answers are retried here: the token endpoint's were retried by `Credentials`. */
  const fromApi = (error: ApiError): boolean =>
    HttpClientError.isHttpClientError(error) ? error.request.url.startsWith(baseUrl) : error.method !== undefined

  /**
   * The verdict on an error of the API. A 429 of `startExport` is final here: the wait for the export slot
   * decides what follows it (`ExportSlot`).
   */
  const verdictOn = (error: ApiError): RetryPolicy.Verdict | undefined => {
    if (!fromApi(error)) return undefined
    if (error._tag === "TooManyRequests" && error.method === TextRevealError.exportMethod) return undefined
    return RetryPolicy.verdictOf(error, idempotent(error))
  }

  const retrySchedule = RetryPolicy.schedule<ApiError>({
    policy,
    budget,
    verdictOf: verdictOn,
    endpoint: (error) =>
      endpointOf(HttpClientError.isHttpClientError(error) ? callOf(error.request, baseUrl).method : error.method)
  })

  const deadline = options.deadline === undefined ? undefined : Duration.decode(options.deadline)

  // The platform's own span would keep the request, token included, in its exit: the calls have their own.
  const client = (yield* HttpClient.HttpClient).pipe(
    // With no span, the platform sends no trace context (traceparent, b3) either.
    HttpClient.withTracerDisabledWhen(() => true),
    HttpClient.mapRequest(flow(
      HttpClientRequest.prependUrl(baseUrl),
      HttpClientRequest.acceptJson,
      HttpClientRequest.setHeader("user-agent", userAgent)
    )),
    HttpClient.mapRequestEffect(withToken),
    HttpClient.transform(answer),
    HttpClient.retry(retrySchedule),
    deadline === undefined
      ? identity
      : HttpClient.transformResponse(withTimeout(deadline, HttpClientRequest.get(baseUrl), "the call did not finish")),
    options.transformClient ?? identity
  )

  /** Runs a task call in its span, with the task id validated (and lower-cased) first. */
  const withTaskId = <A>(method: string, taskId: string, f: (id: string) => Effect.Effect<A, ApiError>) =>
    Effect.withSpan(
      Effect.flatMap(
        validateTaskId(taskId, method),
        (id) => Effect.zipRight(Effect.annotateCurrentSpan("textreveal.task_id", id), f(id))
      ),
      `TextRevealClient.${method}`,
      tracedCall
    )

  const getDownloadUrls = (taskId: string) =>
    withTaskId("getDownloadUrls", taskId, (id) =>
      client.get(`/tasks/${id}/download`).pipe(
        Effect.flatMap(decodeDownloadUrls),
        Effect.flatMap((urls) =>
          Effect.map(DateTime.now, (receivedAt) => {
            const expiresAt = DateTime.addDuration(receivedAt, DownloadUrl.validity)
            // Each URL was parsed and checked once, by the schema: the model is built without checking again.
            return urls.map((url) =>
              new DownloadUrl.DownloadUrl({ url: url.url, fileName: url.fileName, expiresAt }, true)
            )
          })
        )
      ))

  const getTaskStatus = (taskId: string) =>
    withTaskId("getTaskStatus", taskId, (id) =>
      client.get(`/tasks/${id}/status`).pipe(
        Effect.flatMap(decodeStatus),
        Effect.map((body) => body.status)
      ))

  const listTasks = (listOptions: ListTasksOptions = {}): Stream.Stream<Task.Task, ApiError> =>
    Stream.unwrap(
      Effect.map(listQuery(listOptions), ({ maxPages, query }) => {
        // One listing's cursors, each with the page that gave it: a new map for each run of the stream.
        const seen = new Map<string, number>()
        return Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
          client.get("/tasks", { urlParams: cursor === undefined ? query : { ...query, search_after: cursor } }).pipe(
            Effect.flatMap((response) =>
              Effect.flatMap(decodeTaskList(response), (page) => {
                const pages = seen.size + 1
                const step = Pagination.next({ seen, pages }, page, maxPages)
                const tasks = Chunk.unsafeFromArray(page.data)
                switch (step._tag) {
                  case "Last":
                    return Effect.succeed([tasks, Option.none<string>()] as const)
                  case "Follow":
                    seen.set(step.cursor, pages)
                    return Effect.succeed([tasks, Option.some(step.cursor)] as const)
                  default:
                    return Effect.fail(decodeFailure(response, Pagination.describe(step)))
                }
              })
            ),
            Effect.withSpan("TextRevealClient.listTasks", tracedCall)
          ))
      })
    )

  /** The newest export still `starting` or `running`, if any. */
  const findRunningExport = listTasks({ size: 10, order: ["created_at:desc"], fields: ["status", "type"] }).pipe(
    Stream.filter((task) => task.status === "starting" || task.status === "running"),
    Stream.take(1),
    Stream.runHead,
    Effect.map((task) => Option.getOrUndefined(Option.map(task, (t) => t.id as string)))
  )

  const startExport = (
    resource: string,
    body: Readonly<Record<string, unknown>> = {},
    exportOptions: StartExportOptions = {}
  ): Effect.Effect<TaskId.TaskId, ApiError> =>
    Effect.gen(function*() {
      const path = yield* ExportResource.validate(resource)
      yield* Effect.annotateCurrentSpan("textreveal.resource", path)
      const request = yield* encodeExportBody(HttpClientRequest.post(`/${path}/export`), body).pipe(
        Effect.mapError(() => ExportResource.invalid("body", "must be a JSON object", "a value JSON cannot hold"))
      )
      const post = client.execute(request).pipe(
        Effect.flatMap(decodeExportStarted),
        // The API's ids are lower case; an upper-case one is given as the other methods send it.
        Effect.map((started) => started.task_id.toLowerCase() as TaskId.TaskId),
        Effect.locally(currentExport, true)
      )
      const wait = exportOptions.waitForSlot ?? defaultWaitForSlot
      const taskId = yield* ExportSlot.run(
        { post, findRunning: findRunningExport, status: getTaskStatus, policy },
        wait === false ? undefined : Duration.decode(wait)
      )
      yield* Effect.annotateCurrentSpan("textreveal.task_id", taskId)
      return taskId
    }).pipe(Effect.withSpan("TextRevealClient.startExport", tracedCall))

  return TextRevealClient.of({ getDownloadUrls, getTaskStatus, listTasks, startExport, client })
})

/**
 * The client as a layer. It requires an `HttpClient` (e.g. `FetchHttpClient.layer`) and `Credentials`, and
 * fails with a `ConfigError` when `baseUrl` is not usable (see {@link Options.baseUrl}).
 *
 * @example
 * ```ts
 * import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
 * import { Layer } from "effect"
 * import { Credentials, TextRevealClient } from "effect-textreveal"
 *
 * // Node's undici client (keep-alive connections), options given in code.
 * export const TextRevealLive = TextRevealClient.layer({
 *   timeout: "10 seconds",
 *   deadline: "2 minutes",
 *   retry: { times: 3 },
 *   retryBudget: { capacity: 100 }
 * }).pipe(
 *   Layer.provide(Credentials.layerConfig),
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<TextRevealClient, ConfigError.ConfigError, HttpClient.HttpClient | Credentials.Credentials> =>
  Layer.scoped(TextRevealClient, make(options))

/**
 * The client with its base URL read from `TEXTREVEAL_BASE_URL` (optional; default {@link defaultBaseUrl}).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Console, Effect, Layer } from "effect"
 * import { Credentials, TextRevealClient } from "effect-textreveal"
 *
 * // TEXTREVEAL_TOKEN, or TEXTREVEAL_USERNAME + TEXTREVEAL_PASSWORD (+ TEXTREVEAL_TOKEN_URL);
 * // TEXTREVEAL_BASE_URL is optional.
 * const TextRevealLive = TextRevealClient.layerConfig.pipe(
 *   Layer.provide(Credentials.layerConfig),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * export const program = Effect.gen(function*() {
 *   const client = yield* TextRevealClient.TextRevealClient
 *   const status = yield* client.getTaskStatus("f47ac10b-58cc-4372-a567-0e02b2c3d479")
 *   yield* Console.log(status)
 * }).pipe(Effect.provide(TextRevealLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<
  TextRevealClient,
  ConfigError.ConfigError,
  HttpClient.HttpClient | Credentials.Credentials
> = Layer.unwrapEffect(
  Effect.map(
    Config.option(Config.nonEmptyString("TEXTREVEAL_BASE_URL")),
    (baseUrl) => layer({ baseUrl: Option.getOrUndefined(baseUrl) })
  )
)
