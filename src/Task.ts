/**
 * Export tasks: their states and how they are listed.
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
 * A task as listed by `GET /tasks`. Fields left out with the `fields` option are absent. Timestamps are
 * ISO 8601, with or without milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export class Task extends Schema.Class<Task>("Task")({
  id: TaskId,
  status: Schema.optional(TaskStatus),
  description: Schema.optional(Schema.NullOr(Schema.String)),
  type: Schema.optional(Schema.String),
  created_at: Schema.optional(Schema.DateTimeUtc),
  completed_at: Schema.optional(Schema.NullOr(Schema.DateTimeUtc))
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
 * A sort key of `GET /tasks`: a field and a direction, e.g. `"created_at:desc"`.
 *
 * @since 0.2.0
 * @category models
 */
export type TaskOrder = `${"created_at" | "completed_at" | "status"}:${"asc" | "desc"}`
