/**
 * Waiting for a task (`wait`, `download --wait`): `TaskResults.awaitCompletion` with its default schedule,
 * each polled status shown as the display mode says.
 *
 * @internal
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Task from "../Task.js"
import * as TaskResults from "../TaskResults.js"
import * as Display from "./display.js"
import { Stderr } from "./stderr.js"

/** @internal */
export const awaitTask = (
  taskId: string,
  options: { readonly mode: Display.Mode; readonly timeout?: Duration.Duration | undefined }
) =>
  Effect.scoped(Effect.gen(function*() {
    const results = yield* TaskResults.TaskResults
    const display = yield* Display.wait(yield* Stderr, options.mode, taskId)
    const schedule = TaskResults.defaultSchedule.pipe(
      Schedule.tapInput((status: Task.TaskStatus) => display.onStatus(status))
    )
    yield* results.awaitCompletion(taskId, { schedule, timeout: options.timeout })
  }))
