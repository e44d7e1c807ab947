/**
 * The account's one export slot: what `startExport` does after a 429 "too many exports in progress" (a
 * pure decision from plain data, {@link decide}), and the effectful shell that only does what it says
 * ({@link run}).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import type * as Task from "../Task.js"
import * as TextRevealError from "../TextRevealError.js"
import * as RetryPolicy from "./retryPolicy.js"
import * as Polling from "./taskResults/polling.js"

/**
 * What happened last while waiting for the slot.
 *
 * - `Rejected`: the export request was answered 429 (the slot is taken).
 * - `Searched`: the tasks were listed; `runningTaskId` is the newest `starting` or `running` one, if any;
 *   `backoffMillis` the wait the client's 429 rules give when none is found (`undefined`: no more).
 * - `Waited`: the wait for the running export ended: it ended too (`ended`), or the time ran out.
 *
 * @internal
 */
export type Event =
  | { readonly _tag: "Rejected" }
  | {
    readonly _tag: "Searched"
    readonly runningTaskId: string | undefined
    readonly backoffMillis: number | undefined
  }
  | { readonly _tag: "Waited"; readonly runningTaskId: string; readonly ended: boolean }

/**
 * Where the wait stands: its bound (`undefined`: do not wait), the time spent, the export requests
 * rejected so far, and the last running export found.
 *
 * @internal
 */
export interface Input {
  readonly waitForSlotMillis: number | undefined
  readonly elapsedMillis: number
  readonly rejections: number
  readonly lastRunningTaskId: string | undefined
  readonly event: Event
}

/**
 * The next thing to do.
 *
 * @internal
 */
export type Step =
  | { readonly _tag: "GiveUp"; readonly runningTaskId: string | undefined }
  | { readonly _tag: "FindRunning" }
  | { readonly _tag: "AwaitTask"; readonly taskId: string; readonly withinMillis: number }
  | { readonly _tag: "Backoff"; readonly delayMillis: number }
  | { readonly _tag: "PostAgain" }

/**
 * The most export requests one call makes: a bound beside the time, should a server keep answering 429
 * while listing no running export and sending a `Retry-After` of 0.
 *
 * @internal
 */
export const maxRejections = 100

/**
 * The decision after each event of the wait for the slot. Pure.
 *
 * @internal
 */
export const decide = (input: Input): Step => {
  const { elapsedMillis, event, waitForSlotMillis } = input
  const remaining = waitForSlotMillis === undefined ? 0 : waitForSlotMillis - elapsedMillis
  switch (event._tag) {
    case "Rejected":
      // The first refusal always looks for the running export (one listing), so that giving up can name it
      // however long the refused request took; `waitForSlot: false` looks for nothing.
      return waitForSlotMillis === undefined || input.rejections >= maxRejections ||
          (remaining <= 0 && input.rejections > 1)
        ? { _tag: "GiveUp", runningTaskId: input.lastRunningTaskId }
        : { _tag: "FindRunning" }
    case "Searched":
      if (event.runningTaskId !== undefined) {
        return remaining <= 0
          ? { _tag: "GiveUp", runningTaskId: event.runningTaskId }
          : { _tag: "AwaitTask", taskId: event.runningTaskId, withinMillis: remaining }
      }
      return event.backoffMillis === undefined || event.backoffMillis > remaining
        ? { _tag: "GiveUp", runningTaskId: undefined }
        : { _tag: "Backoff", delayMillis: event.backoffMillis }
    case "Waited":
      return event.ended ? { _tag: "PostAgain" } : { _tag: "GiveUp", runningTaskId: event.runningTaskId }
  }
}

/**
 * What the shell needs: one export request through the client's pipeline, the newest running export, one
 * status check, the client's retry policy (for the backoff when no running export is found).
 *
 * @internal
 */
export interface Deps<A, E> {
  readonly post: Effect.Effect<A, E | TextRevealError.TooManyRequests>
  readonly findRunning: Effect.Effect<string | undefined, E>
  readonly status: (taskId: string) => Effect.Effect<Task.TaskStatus, E | TextRevealError.NotFound>
  readonly policy: RetryPolicy.SchedulePolicy
}

/** The last 429 of the wait, naming the export found running. */
const withRunningTask = (error: TextRevealError.TooManyRequests, runningTaskId: string) =>
  new TextRevealError.TooManyRequests({
    status: error.status,
    message: error.message,
    reason: error.reason,
    attempts: error.attempts,
    runningTaskId,
    ...(error.excerpt === undefined ? {} : { excerpt: error.excerpt }),
    ...(error.method === undefined ? {} : { method: error.method }),
    ...(error.taskId === undefined ? {} : { taskId: error.taskId }),
    ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter })
  })

const isFinal = (status: Task.TaskStatus) => status === "completed" || status === "failed"

/**
 * Posts the export; after a 429 from the slot, follows {@link decide} until the export starts or the wait
 * gives up with the last 429, its `runningTaskId` set when a running export was found.
 *
 * @internal
 */
export const run = <A, E extends { readonly _tag: string }>(
  deps: Deps<A, E>,
  waitForSlot: Duration.Duration | undefined
): Effect.Effect<A, E | TextRevealError.TooManyRequests | TextRevealError.NotFound> =>
  Effect.gen(function*() {
    const startedAt = yield* Clock.currentTimeMillis
    const waitForSlotMillis = waitForSlot === undefined ? undefined : Duration.toMillis(waitForSlot)
    let rejections = 0
    let lastRunningTaskId: string | undefined
    let backoff = RetryPolicy.initial
    const next = (event: Event) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        decide({ waitForSlotMillis, elapsedMillis: now - startedAt, rejections, lastRunningTaskId, event }))

    // A status check schedule that stops at a final status; a task no longer found has ended too.
    const untilEnded = Polling.defaultSchedule.pipe(Schedule.whileInput((s: Task.TaskStatus) =>
      !isFinal(s)
    ))
    const awaitEnd = (taskId: string) =>
      deps.status(taskId).pipe(
        Effect.repeat(untilEnded),
        Effect.asVoid,
        Effect.catchIf((e): e is TextRevealError.NotFound => e._tag === "NotFound", () => Effect.void)
      )

    while (true) {
      const posted = yield* Effect.either(deps.post)
      if (posted._tag === "Right") return posted.right
      const error = posted.left
      if (error._tag !== "TooManyRequests" || !(error as TextRevealError.TooManyRequests).exportInProgress) {
        return yield* Effect.fail(error)
      }
      const rejected = error as TextRevealError.TooManyRequests
      rejections++
      let step = yield* next({ _tag: "Rejected" })
      while (step._tag !== "PostAgain") {
        switch (step._tag) {
          case "GiveUp": {
            const runningTaskId = step.runningTaskId
            return yield* Effect.fail(runningTaskId === undefined ? rejected : withRunningTask(rejected, runningTaskId))
          }
          case "FindRunning": {
            const runningTaskId = yield* deps.findRunning
            let backoffMillis: number | undefined
            if (runningTaskId === undefined) {
              const decided = RetryPolicy.decide(
                deps.policy,
                backoff,
                { kind: "rate_limited", status: 429, retryAfter: rejected.retryAfter },
                yield* Random.next
              )
              if (decided._tag === "Retry") {
                backoff = RetryPolicy.advance(backoff, decided, 0)
                backoffMillis = decided.delayMillis
              }
            } else {
              lastRunningTaskId = runningTaskId
            }
            step = yield* next({ _tag: "Searched", runningTaskId, backoffMillis })
            break
          }
          case "AwaitTask": {
            const taskId = step.taskId
            yield* Effect.logInfo("TextReveal export slot taken: waiting for the running export").pipe(
              Effect.annotateLogs({ task_id: taskId })
            )
            const ended = yield* Effect.timeoutOption(awaitEnd(taskId), Duration.millis(step.withinMillis))
            step = yield* next({ _tag: "Waited", runningTaskId: taskId, ended: Option.isSome(ended) })
            break
          }
          case "Backoff":
            yield* Effect.sleep(Duration.millis(step.delayMillis))
            step = { _tag: "PostAgain" }
            break
        }
      }
    }
  })
