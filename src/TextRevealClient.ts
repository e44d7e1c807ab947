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
import { flow } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Credentials from "./Credentials.js"
import * as DownloadUrl from "./DownloadUrl.js"
import { parseBaseUrl } from "./internal/baseUrl.js"
import * as Deadlines from "./internal/deadlines.js"
import { decodeFailure, decodeJson } from "./internal/decodeBody.js"
import { fromApiResponse } from "./internal/errorResponse.js"
import * as Metrics from "./internal/metrics.js"
import { redactError } from "./internal/redact.js"
import { mebibytes, readWhole } from "./internal/responseBody.js"
import * as RetryBudget from "./internal/retryBudget.js"
import * as RetryPolicy from "./internal/retryPolicy.js"
import { makeScrub } from "./internal/secrets.js"
import { timedOut, withTimeout } from "./internal/timeout.js"
import { validateTaskId } from "./internal/validateTaskId.js"
import { userAgent } from "./internal/version.js"
import * as Wire from "./internal/wire.js"
import type * as Retry from "./Retry.js"
import * as Task from "./Task.js"
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
}

/**
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
   * only when the stream pulls it. Bad options fail with `Invalid` before anything is sent.
   */
  readonly listTasks: (options?: ListTasksOptions) => Stream.Stream<Task.Task, ApiError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TextRevealClient extends Context.Tag("effect-textreveal/TextRevealClient")<TextRevealClient, Service>() {}

const tracedCall = { captureStackTrace: false } as const

/** The endpoint a request of the API client goes to, for its metrics. */
const endpointOf = (url: string): "download" | "status" | "tasks" =>
  url.endsWith("/download") ? "download" : url.endsWith("/status") ? "status" : "tasks"

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

/** Counts an attempt and its duration in the client's metrics. */
const measured = (endpoint: Metrics.Endpoint) => <A>(attempt: Effect.Effect<A, ApiError>) =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (startedAt) =>
      Effect.onExit(attempt, (exit) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Metrics.recordRequest(endpoint, outcomeOf(exit), now - startedAt)))
  )

/** The call's span says the last status and how many requests were made. */
const annotateAttempt = (status: number) =>
  Effect.flatMap(
    Schedule.CurrentIterationMetadata,
    (meta) =>
      Effect.annotateCurrentSpan({ "http.response.status_code": status, "textreveal.attempts": meta.recurrence + 1 })
  )

/** A header value the platform can send: visible ASCII, no spaces or line breaks. */
const sendableToken = /^[\x21-\x7e]+$/

const unsendableToken = new TextRevealError.Unauthorized({
  status: 401,
  message:
    "The token is empty or holds characters that cannot be sent in an HTTP header (a line break, a space, non-ASCII); nothing was sent",
  reason: "invalid_token"
})

const invalidOption = (field: string, message: string) =>
  new TextRevealError.Invalid({
    status: 400,
    message: `${field}: ${message}`,
    reason: "invalid",
    errors: [new TextRevealError.FieldError({ field, message, reason: "invalid" }, true)]
  })

const orderPattern = /^(created_at|completed_at|status):(asc|desc)$/

/** The query of `GET /tasks` for these options, or the `Invalid` the API would answer. */
const listQuery = (options: ListTasksOptions): Effect.Effect<Record<string, string>, TextRevealError.Invalid> => {
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
  return Effect.succeed({
    size: String(size),
    ...(fields.length > 0 ? { fields: [...new Set(["id", ...fields])].join(",") } : {}),
    ...(order.length > 0 ? { order: order.join(",") } : {})
  })
}

const decodeDownloadUrls = decodeJson(Wire.DownloadUrlsBody, "a JSON array of signed http(s) file URLs")
const decodeStatus = decodeJson(Wire.StatusBody, "{ status: starting | running | failed | completed }")
const decodeTaskList = decodeJson(Wire.TaskListBody, "a page of tasks { data, size, has_next, count, search_after }")

/**
 * Builds the service from an `HttpClient` and `Credentials`. The API client is assembled once, here, as one
 * `HttpClient` pipeline: base URL, `Accept`, `User-Agent`, the bearer token, a time limit per attempt,
 * bounded body reading, status mapped to the typed errors, one renewal of a rejected token, the retry
 * schedule and budget, redaction, the call's deadline, then the caller's `transformClient`. An endpoint
 * method is a request and a decode.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const baseUrl = yield* parseBaseUrl("baseUrl", options.baseUrl ?? defaultBaseUrl, "/v3")
  const credentials = yield* Credentials.Credentials
  const policy = RetryPolicy.resolve(options)
  const budget = options.retryBudget === false ? RetryBudget.unlimited : yield* RetryBudget.make(options.retryBudget)
  const maxBodyBytes = options.maxBodyBytes ?? mebibytes(8)
  // The platform's own span would keep the request, token included, in its exit: the calls have their own.
  // Each exchange runs in a scope whose closing aborts it: that is how its time limit ends it.
  const http = (yield* HttpClient.HttpClient).pipe(
    HttpClient.withTracerDisabledWhen(() => true),
    HttpClient.withTracerPropagation(false),
    HttpClient.withScope
  )
  const deadlines = yield* Deadlines.make

  /** How each failure of an attempt may be retried; failures with no verdict (a token that could not be obtained) end the call. */
  const verdicts = new WeakMap<object, RetryPolicy.Verdict>()

  const failed = (error: ApiError, access: Credentials.AccessToken): Effect.Effect<never, ApiError> => {
    const redacted = HttpClientError.isHttpClientError(error) ? redactError(error, makeScrub([access.token])) : error
    // A 403 on a token obtained for this very call is a real refusal, not a token the API stopped accepting.
    const rejected = error._tag === "Unauthorized" || (error._tag === "Forbidden" && !access.fresh)
    if (rejected) {
      if (credentials.renewable) verdicts.set(Cause.originalError(redacted), { kind: "renewal", status: error.status })
      return Effect.zipRight(credentials.invalidate(access.token), Effect.fail(redacted))
    }
    const verdict = RetryPolicy.verdictOf(redacted)
    if (verdict !== undefined) verdicts.set(Cause.originalError(redacted), verdict)
    return Effect.fail(redacted)
  }

  /** A success: the span says so, and the retry budget gets back what the success earns. */
  const succeeded = Effect.flatMap(Schedule.CurrentIterationMetadata, (meta) =>
    Effect.zipRight(
      Effect.annotateCurrentSpan({ "http.response.status_code": 200, "textreveal.attempts": meta.recurrence + 1 }),
      budget.refund(meta.recurrence > 0)
    ))

  /** One request with the current token, its answer read whole (bounded) or mapped to a typed error. */
  const attempt = (request: HttpClientRequest.HttpClientRequest, endpoint: Metrics.Endpoint) =>
    Effect.flatMap(credentials.get, (access) => {
      if (!sendableToken.test(Redacted.value(access.token))) return Effect.fail(unsendableToken)
      const sent = HttpClientRequest.bearerToken(request, access.token)
      const exchange = http.execute(sent).pipe(
        Effect.flatMap((response) =>
          response.status === 200
            ? Effect.zipLeft(readWhole(response, maxBodyBytes), succeeded)
            : Effect.zipRight(annotateAttempt(response.status), fromApiResponse(response, makeScrub([access.token])))
        )
      )
      return deadlines.limit(
        exchange,
        policy.timeout,
        () => timedOut(sent, policy.timeout, "no complete answer from TextReveal")
      ).pipe(
        measured(endpoint),
        Effect.catchAll((error) => failed(error, access))
      )
    })

  const retrySchedule = (endpoint: Metrics.Endpoint) =>
    RetryPolicy.schedule(
      policy,
      budget,
      // A failure inside a span is wrapped (with the span) when it fails: verdicts are kept on the original.
      (error: ApiError) => verdicts.get(Cause.originalError(error)),
      (error) => error.message.slice(0, 200),
      endpoint
    )
  const retrySchedules = {
    download: retrySchedule("download"),
    status: retrySchedule("status"),
    tasks: retrySchedule("tasks")
  }

  /**
   * The first attempt runs outside the retry machinery, so that a call that succeeds at once does not pay for
   * it; its failure is replayed as the schedule's first input, so that the schedule counts every attempt.
   */
  const retrying = (request: HttpClientRequest.HttpClientRequest) => {
    const endpoint = endpointOf(request.url)
    return Effect.catchAll(attempt(request, endpoint), (first) => {
      let replayed = false
      const next = Effect.suspend(() => {
        if (replayed) return attempt(request, endpoint)
        replayed = true
        return Effect.fail(first)
      })
      return Effect.retry(next, retrySchedules[endpoint])
    })
  }

  const call = (
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError> => {
    const retried = retrying(request)
    return options.deadline === undefined
      ? retried
      : withTimeout(
        Duration.decode(options.deadline),
        HttpClientRequest.make(request.method)(request.url),
        "the call did not finish"
      )(
        retried
      )
  }

  const configured = HttpClient.makeWith<never, never, ApiError, never>(
    (request) => Effect.flatMap(request, call),
    Effect.succeed
  ).pipe(
    HttpClient.mapRequest(flow(
      HttpClientRequest.prependUrl(baseUrl),
      HttpClientRequest.acceptJson,
      HttpClientRequest.setHeader("user-agent", userAgent)
    ))
  )
  const client = options.transformClient === undefined ? configured : options.transformClient(configured)

  /** Runs a task call in its span, with the task id validated (and lower-cased) first. */
  const withTaskId = <A>(name: string, taskId: string, f: (id: string) => Effect.Effect<A, ApiError>) =>
    Effect.withSpan(
      Effect.flatMap(
        validateTaskId(taskId),
        (id) => Effect.zipRight(Effect.annotateCurrentSpan("textreveal.task_id", id), f(id))
      ),
      name,
      tracedCall
    )

  const getDownloadUrls = (taskId: string) =>
    withTaskId("TextRevealClient.getDownloadUrls", taskId, (id) =>
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
    withTaskId("TextRevealClient.getTaskStatus", taskId, (id) =>
      client.get(`/tasks/${id}/status`).pipe(
        Effect.flatMap(decodeStatus),
        Effect.map((body) => body.status)
      ))

  const listPage = (query: Record<string, string>, cursor: string | undefined) =>
    client.get("/tasks", { urlParams: cursor === undefined ? query : { ...query, search_after: cursor } }).pipe(
      Effect.flatMap((response) =>
        Effect.flatMap(decodeTaskList(response), (page) => {
          if (!page.has_next || page.search_after === null) {
            return Effect.succeed([page.data, Option.none<string>()] as const)
          }
          // A cursor that does not move would page forever.
          return page.search_after === cursor
            ? Effect.fail(decodeFailure(response, "TextReveal answered the same search_after cursor twice"))
            : Effect.succeed([page.data, Option.some(page.search_after)] as const)
        })
      ),
      Effect.withSpan("TextRevealClient.listTasks", tracedCall)
    )

  const listTasks = (listOptions: ListTasksOptions = {}): Stream.Stream<Task.Task, ApiError> =>
    Stream.unwrap(
      Effect.map(listQuery(listOptions), (query) =>
        Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
          Effect.map(listPage(query, cursor), ([tasks, next]) =>
            [Chunk.unsafeFromArray(tasks), next] as const)))
    )

  return TextRevealClient.of({ getDownloadUrls, getTaskStatus, listTasks })
})

/**
 * The client as a layer. It requires an `HttpClient` (e.g. `FetchHttpClient.layer`) and `Credentials`, and
 * fails with a `ConfigError` when `baseUrl` is not usable (see {@link Options.baseUrl}).
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
