/**
 * The errors of task results: a file that could not be fetched intact, a task that failed or did not
 * complete in time, a CSV record that cannot be read.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import * as Task from "./Task.js"

/**
 * Why a file could not be fetched:
 *
 * - `"Expired"`: the file host refused the signed URL (403) again right after fresh URLs were fetched.
 * - `"Missing"`: the file is no longer among the task's URLs when they were fetched afresh.
 * - `"Status"`: the file host answered a status that is not the file (404, 410, a 429 or 5xx still failing
 *   after the retries, a `Retry-After` too long to wait, ...); `status` holds it.
 * - `"Transport"`: no answer could be had from the file host (connection refused, reset before the headers,
 *   invalid URL), after the retries.
 * - `"TooManyResumes"`: the body was cut short more times than allowed without any new byte in between.
 * - `"SizeMismatch"`: the file host sent more bytes than it announced (or, announcing none, more than
 *   `maxFileBytes`), or announced more than `maxFileBytes`.
 * - `"EntityChanged"`: the file changed on the host after some of its bytes had already been handed to a
 *   stream (`files`, `rows`), which cannot take them back.
 * - `"Decompression"`: gzip data (a body sent with `Content-Encoding: gzip`, or a `.gz` file read as rows) is
 *   corrupt, truncated or followed by garbage.
 *
 * @since 0.2.0
 * @category errors
 */
export const DownloadErrorReason = Schema.Literal(
  "Expired",
  "Missing",
  "Status",
  "Transport",
  "TooManyResumes",
  "SizeMismatch",
  "EntityChanged",
  "Decompression"
)

/**
 * @since 0.2.0
 * @category errors
 */
export type DownloadErrorReason = typeof DownloadErrorReason.Type

/**
 * A file of a task could not be fetched intact. `fileName` is the name used on disk; the message says why
 * and never holds the signed URL, its query or any header.
 *
 * @since 0.2.0
 * @category errors
 */
export class DownloadError extends Schema.TaggedError<DownloadError>("effect-textreveal/DownloadError")(
  "DownloadError",
  {
    fileName: Schema.String,
    reason: DownloadErrorReason,
    message: Schema.String,
    /** The file host's status, for `"Status"` (and `"Expired"`: 403). */
    status: Schema.optional(Schema.Number)
  }
) {}

/**
 * The task ended in the `failed` state.
 *
 * @since 0.2.0
 * @category errors
 */
export class TaskFailed extends Schema.TaggedError<TaskFailed>("effect-textreveal/TaskFailed")("TaskFailed", {
  taskId: Schema.String
}) {
  override get message(): string {
    return `Task ${this.taskId} failed`
  }
}

/**
 * The task was not completed within the time (or the schedule) allowed. `status` is the last status seen,
 * absent when no answer arrived in time.
 *
 * @since 0.2.0
 * @category errors
 */
export class WaitTimeout extends Schema.TaggedError<WaitTimeout>("effect-textreveal/WaitTimeout")("WaitTimeout", {
  taskId: Schema.String,
  status: Schema.optional(Task.TaskStatus)
}) {
  override get message(): string {
    return `Task ${this.taskId} was not completed in time (last status: ${this.status ?? "none received"})`
  }
}

/**
 * A `download`, `files` or `rows` call did not finish within its `deadline`: whatever it was doing was
 * interrupted (a download keeps its temporary files, to be continued by the next run).
 *
 * @since 0.3.0
 * @category errors
 */
export class DeadlineExceeded extends Schema.TaggedError<DeadlineExceeded>("effect-textreveal/DeadlineExceeded")(
  "DeadlineExceeded",
  {
    taskId: Schema.String,
    deadline: Schema.DurationFromSelf
  }
) {
  override get message(): string {
    return `Task ${this.taskId}: the results were not fetched within the deadline (${Duration.format(this.deadline)})`
  }
}

/**
 * A record of an exported CSV file that cannot be read: `line` is the 1-based line of the file where the
 * record starts (the header is line 1), and the message names the field at fault when there is one.
 *
 * @since 0.2.0
 * @category errors
 */
export class RowError extends Schema.TaggedError<RowError>("effect-textreveal/RowError")("RowError", {
  fileName: Schema.String,
  line: Schema.Number,
  message: Schema.String
}) {}
