import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { DeadlineExceeded } from "../../TaskResultsError.js"

/**
 * Bounds a whole call by its `deadline` (none: unbounded).
 *
 * @internal
 */
export const effect =
  (taskId: string, deadline: Duration.DurationInput | undefined) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DeadlineExceeded, R> => {
    if (deadline === undefined) return self
    const duration = Duration.decode(deadline)
    return Effect.timeoutFail(self, { duration, onTimeout: () => new DeadlineExceeded({ taskId, deadline: duration }) })
  }

/**
 * Bounds streams by a `deadline` counted from now (not from when each stream runs): all the streams one
 * call hands out share it.
 *
 * @internal
 */
export const stream = (taskId: string, deadline: Duration.DurationInput | undefined) =>
  Effect.map(
    Clock.currentTimeMillis,
    (start) => <A, E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<A, E | DeadlineExceeded, R> => {
      if (deadline === undefined) return self
      const duration = Duration.decode(deadline)
      const expiry = Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.zipRight(
          Effect.sleep(Duration.millis(Math.max(0, start + Duration.toMillis(duration) - now))),
          Effect.fail(new DeadlineExceeded({ taskId, deadline: duration }))
        ))
      return Stream.interruptWhen(self, expiry)
    }
  )
