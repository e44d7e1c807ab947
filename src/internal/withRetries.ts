import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as RetryPolicy from "./retryPolicy.js"

/**
 * Runs the effect made by `attempt`, retrying it by `policy`. `nextAttempt` counts the requests of the call
 * (1, 2, ...): an attempt runs it before each request it sends, so that its errors say how many were made.
 *
 * @internal
 */
export const withRetries = <A, E extends RetryPolicy.RetryInput, R>(
  policy: RetryPolicy.Policy,
  attempt: (nextAttempt: Effect.Effect<number>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Ref.make(0),
    (count) =>
      Effect.retry(attempt(Ref.updateAndGet(count, (n) => n + 1)), RetryPolicy.schedule(policy, Ref.get(count)))
  )
