/**
 * Export tasks: their states and the wire bodies of the task endpoints.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { TaskId } from "./TaskId.js"

/**
 * A task's state. It moves `starting` → `running` → `completed` or `failed`.
 *
 * @since 0.1.0
 * @category models
 */
export const TaskStatus = Schema.Literal("starting", "running", "failed", "completed")

/**
 * @since 0.1.0
 * @category models
 */
export type TaskStatus = typeof TaskStatus.Type

/**
 * The body of `GET /tasks/{task_id}/status`.
 *
 * @since 0.1.0
 * @category wire
 */
export const StatusBody = Schema.Struct({ status: TaskStatus })

/**
 * An ISO 8601 timestamp, with or without milliseconds, as a `DateTime.Utc`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Timestamp = Schema.DateTimeUtc

/**
 * A task as listed by `GET /tasks`. Fields left out with the `fields` parameter are absent.
 *
 * @since 0.1.0
 * @category models
 */
export class Task extends Schema.Class<Task>("Task")({
  id: TaskId,
  status: Schema.optional(TaskStatus),
  description: Schema.optional(Schema.NullOr(Schema.String)),
  type: Schema.optional(Schema.String),
  created_at: Schema.optional(Timestamp),
  completed_at: Schema.optional(Schema.NullOr(Timestamp))
}) {}

/**
 * The fields `GET /tasks` can be asked to return.
 *
 * @since 0.1.0
 * @category models
 */
export const TaskField = Schema.Literal("id", "status", "description", "type", "created_at", "completed_at")

/**
 * @since 0.1.0
 * @category models
 */
export type TaskField = typeof TaskField.Type

/**
 * The body of `GET /tasks`: one page of tasks and the cursor of the next.
 *
 * @since 0.1.0
 * @category wire
 */
export const TaskListBody = Schema.Struct({
  data: Schema.Array(Task),
  size: Schema.Number,
  has_next: Schema.Boolean,
  count: Schema.Number,
  search_after: Schema.NullOr(Schema.String)
})

/**
 * @since 0.1.0
 * @category wire
 */
export type TaskListBody = typeof TaskListBody.Type

/**
 * The body of a `POST /<resource>/export` answer.
 *
 * @since 0.1.0
 * @category wire
 */
export const ExportStartedBody = Schema.Struct({ task_id: TaskId })
