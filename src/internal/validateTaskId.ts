import * as Effect from "effect/Effect"
import * as TaskId from "../TaskId.js"
import * as TextRevealError from "../TextRevealError.js"

/**
 * Refuses a task id that is not a UUID with the 400 the API would give, before anything is sent.
 *
 * @internal
 */
export const validateTaskId = (taskId: string): Effect.Effect<TaskId.TaskId, TextRevealError.Invalid> =>
  TaskId.is(taskId) ? Effect.succeed(taskId) : Effect.fail(
    new TextRevealError.Invalid({
      status: 400,
      message: `task_id must be a UUID, got ${JSON.stringify(taskId.slice(0, 80))}`,
      reason: "invalid",
      errors: [
        new TextRevealError.FieldError({ field: "task_id", message: "Expected a UUID", reason: "invalid_string" })
      ]
    })
  )
