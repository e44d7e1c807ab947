/**
 * The identifier of a TextReveal export task.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A TextReveal task id: a UUID string, branded `TaskId`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { TaskId } from "effect-textreveal"
 *
 * // A task id read from outside, checked once: a ParseError when it is not a UUID.
 * export const parse = (input: unknown) => Schema.decodeUnknown(TaskId.TaskId)(input)
 *
 * export const known = TaskId.TaskId.make("f47ac10b-58cc-4372-a567-0e02b2c3d479")
 *
 * export const checked = parse(process.argv[2]).pipe(Effect.option)
 * ```
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
 * @example
 * ```ts
 * import { TaskId } from "effect-textreveal"
 *
 * export const valid = TaskId.is("f47ac10b-58cc-4372-a567-0e02b2c3d479") // true
 * export const invalid = TaskId.is("latest") // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const is: (u: unknown) => u is TaskId = Schema.is(TaskId)
