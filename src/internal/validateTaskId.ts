import * as Effect from "effect/Effect"
import * as TaskId from "../TaskId.js"
import * as TextRevealError from "../TextRevealError.js"

/**
 * A task id in its canonical (lower-case) form, or the 400 the API would give for it (naming `method`, the
 * call that was refused), before anything is sent.
 *
 * @internal
 */
export const validateTaskId = (
  taskId: string,
  method?: string
): Effect.Effect<TaskId.TaskId, TextRevealError.Invalid> => {
  const id = taskId.toLowerCase()
  return TaskId.is(id) ? Effect.succeed(id) : Effect.fail(
    new TextRevealError.Invalid({
      status: 400,
      message: `task_id must be a UUID, got ${JSON.stringify(taskId.slice(0, 80))}${
        method === undefined ? "" : ` (${method})`
      }`,
      reason: "invalid",
      errors: [
        new TextRevealError.FieldError({ field: "task_id", message: "Expected a UUID", reason: "invalid_string" })
      ],
      ...(method === undefined ? {} : { method })
    })
  )
}
