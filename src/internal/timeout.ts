import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/**
 * Bounds an exchange (request sent, body read) in time: past `duration` it is interrupted and fails with a
 * `RequestError` (`Transport`) whose cause is a `TimeoutException` and whose message says it timed out.
 *
 * @internal
 */
export const withTimeout = (
  duration: Duration.Duration,
  request: HttpClientRequest.HttpClientRequest,
  what: string
) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | HttpClientError.RequestError, R> =>
  // A race with a timer costs less than `Effect.timeoutFail` on the path that does not time out.
  Effect.raceFirst(
    self,
    Effect.zipRight(
      Effect.sleep(duration),
      Effect.failSync(() =>
        new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: new Cause.TimeoutException(`timed out after ${Duration.format(duration)}`),
          description: `timed out: ${what} within ${Duration.format(duration)}`
        })
      )
    )
  )
