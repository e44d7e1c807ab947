import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Task from "../../Task.js"
import { TaskFailed, WaitTimeout } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"

/**
 * The default wait between two status checks: 2 seconds, growing by half each time up to 30 seconds,
 * each wait jittered (between 80% and 120%).
 *
 * @internal
 */
export const defaultSchedule: Schedule.Schedule<unknown, Task.TaskStatus> = Schedule.exponential(
  Duration.seconds(2),
  1.5
).pipe(Schedule.union(Schedule.spaced(Duration.seconds(30))), Schedule.jittered)

const isFinal = (status: Task.TaskStatus) => status === "completed" || status === "failed"

/**
 * Polls a task's status until it is `completed` (`failed` is a `TaskFailed`), waiting between checks as
 * `schedule` says. A schedule that ends first, or the `timeout`, is a `WaitTimeout` with the last status.
 *
 * @internal
 */
export const awaitCompletion = (
  client: TextRevealClient.Service,
  taskId: string,
  schedule: Schedule.Schedule<unknown, Task.TaskStatus>,
  timeout: Duration.DurationInput | undefined
): Effect.Effect<void, TextRevealClient.ApiError | TaskFailed | WaitTimeout> =>
  Effect.suspend(() => {
    let last: Task.TaskStatus | undefined
    const timedOut = () => new WaitTimeout({ taskId, ...(last === undefined ? {} : { status: last }) })
    const poll: Effect.Effect<void, TextRevealClient.ApiError | TaskFailed | WaitTimeout> = client.getTaskStatus(taskId)
      .pipe(
        Effect.tap((status) => {
          last = status
        }),
        Effect.repeat(Schedule.passthrough(schedule.pipe(Schedule.whileInput((s: Task.TaskStatus) => !isFinal(s))))),
        Effect.flatMap((status): Effect.Effect<void, TaskFailed | WaitTimeout> =>
          status === "completed"
            ? Effect.void
            : status === "failed"
            ? Effect.fail(new TaskFailed({ taskId }))
            : Effect.fail(timedOut())
        )
      )
    return timeout === undefined
      ? poll
      : Effect.timeoutFail(poll, { duration: timeout, onTimeout: timedOut })
  })
