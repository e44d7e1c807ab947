/**
 * The typed errors of the TextReveal API, one class per documented status.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * One field-level problem reported with a 400, e.g. `{ message: "Expected number, received string",
 * field: "size", reason: "invalid_type" }`.
 *
 * @since 0.1.0
 * @category models
 */
export class FieldError extends Schema.Class<FieldError>("FieldError")({
  message: Schema.String,
  field: Schema.String,
  reason: Schema.String
}) {}

const common = {
  message: Schema.String,
  /** The documented `reason`, or `"unknown"` when the body did not carry one. */
  reason: Schema.String,
  /** A short excerpt of a body that was not the documented JSON, for diagnosis. */
  excerpt: Schema.optional(Schema.String),
  /**
   * The call that failed: `getDownloadUrls`, `getTaskStatus`, `listTasks` or `startExport`, or `GET /path` for a request made
   * through the service's `client`. Absent on errors of the token endpoint.
   */
  method: Schema.optional(Schema.String),
  /** The task the call was about, when there is one. */
  taskId: Schema.optional(Schema.String)
}

/**
 * `true` when the API rejected a token that the credentials can replace: the client discarded it and repeats
 * the call once with a new one.
 */
const renewable = Schema.optional(Schema.Boolean)

/**
 * 400: the request or the task is invalid (a task that failed also answers 400). A task id that is not a
 * UUID is refused locally with this error and a field error on `task_id`, before anything is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class Invalid extends Schema.TaggedError<Invalid>("effect-textreveal/Invalid")("Invalid", {
  status: Schema.Literal(400),
  ...common,
  errors: Schema.Array(FieldError)
}) {
  /**
   * Whether the task has not completed yet (still `starting` or `running`): a field error with reason
   * `task_not_completed`. Wait for it (e.g. `TaskResults.awaitCompletion`) and ask again.
   *
   * @since 0.2.0
   */
  get taskNotCompleted(): boolean {
    return this.errors.some((error) => error.reason === taskNotCompletedReason)
  }

  /**
   * Whether the task itself failed (a field error with reason `task_failed`): its results will never come.
   *
   * @since 0.2.0
   */
  get taskFailed(): boolean {
    return this.errors.some((error) => error.reason === taskFailedReason)
  }
}

/**
 * The field-error reason of a 400 for a task that has not completed yet.
 *
 * @since 0.2.0
 * @category constants
 */
export const taskNotCompletedReason = "task_not_completed"

/**
 * The field-error reason of a 400 for a task that failed.
 *
 * @since 0.2.0
 * @category constants
 */
export const taskFailedReason = "task_failed"

/**
 * 401: the token is missing, expired or unknown; or the token endpoint refused the credentials, with its
 * own status (400, 401 or 403); or a token that cannot be sent in a header was refused before sending.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>("effect-textreveal/Unauthorized")(
  "Unauthorized",
  { status: Schema.Number, ...common, renewable }
) {}

/**
 * 403: the token is not allowed to access this resource.
 *
 * @since 0.1.0
 * @category errors
 */
export class Forbidden extends Schema.TaggedError<Forbidden>("effect-textreveal/Forbidden")("Forbidden", {
  status: Schema.Literal(403),
  ...common,
  renewable
}) {}

/**
 * 404: the task does not exist or is not visible to this account.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>("effect-textreveal/NotFound")("NotFound", {
  status: Schema.Literal(404),
  ...common
}) {}

/**
 * 429: rate limited (e.g. too many exports in progress). `retryAfter` is the server's `Retry-After` when it
 * sent one; `attempts` counts the requests made for the call, retries included. From `startExport`,
 * `runningTaskId` is the export found running while waiting for the slot, when one was found.
 *
 * @since 0.1.0
 * @category errors
 */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>("effect-textreveal/TooManyRequests")(
  "TooManyRequests",
  {
    status: Schema.Literal(429),
    ...common,
    retryAfter: Schema.optional(Schema.DurationFromSelf),
    attempts: Schema.Number,
    /** @since 0.4.0 */
    runningTaskId: Schema.optional(Schema.String)
  }
) {
  /**
   * Whether the 429 answered an export request (`startExport`): the account's one export slot is taken by
   * another export, rather than a rate limit of requests.
   *
   * @since 0.4.0
   */
  get exportInProgress(): boolean {
    return this.method === exportMethod || (this.method !== undefined && exportRequest.test(this.method))
  }
}

/** A request made through the client's `client` to an export endpoint. */
const exportRequest = /^POST \/\S*\/export(?:\?\S*)?$/

/**
 * The `method` of the errors of `startExport`.
 *
 * @since 0.4.0
 * @category constants
 */
export const exportMethod = "startExport"

/**
 * 5xx: the API or a proxy in front of it failed. `attempts` counts the requests made for the call.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("effect-textreveal/ServerError")("ServerError", {
  status: Schema.Number,
  ...common,
  attempts: Schema.Number
}) {}

/**
 * Every error that maps a documented status.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 *
 * export const urlsOrNothing = (taskId: string) =>
 *   Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId)).pipe(
 *     Effect.catchTags({
 *       NotFound: () => Effect.as(Console.log("no such task (results are kept one week)"), []),
 *       Invalid: (e) => e.taskNotCompleted ? Effect.as(Console.log("not finished yet"), []) : Effect.fail(e),
 *       TooManyRequests: (e) => Effect.as(Console.log(`rate limited after ${e.attempts} attempts`), [])
 *     })
 *   )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type TextRevealError = Invalid | Unauthorized | Forbidden | NotFound | TooManyRequests | ServerError

/**
 * @since 0.1.0
 * @category errors
 */
export const TextRevealError: Schema.Union<
  [typeof Invalid, typeof Unauthorized, typeof Forbidden, typeof NotFound, typeof TooManyRequests, typeof ServerError]
> = Schema.Union(Invalid, Unauthorized, Forbidden, NotFound, TooManyRequests, ServerError)
