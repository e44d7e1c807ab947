/**
 * The identifier of a TextReveal export task.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A TextReveal task id: a UUID string, branded `TaskId`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TaskId = Schema.UUID.pipe(
  Schema.brand("TaskId"),
  Schema.annotations({ identifier: "TaskId", description: "A TextReveal task id (UUID)" })
)

/**
 * @since 0.1.0
 * @category models
 */
export type TaskId = typeof TaskId.Type

/**
 * Checks that a string is a task id, without decoding it.
 *
 * @since 0.1.0
 * @category guards
 */
export const is: (u: unknown) => u is TaskId = Schema.is(TaskId)
