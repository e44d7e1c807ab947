import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/**
 * The failure of an exchange that took longer than `duration`: a `RequestError` (`Transport`, so retried
 * as transient) whose cause is a `TimeoutException` and whose message says it timed out.
 *
 * @internal
 */
export const timedOut = (
  request: HttpClientRequest.HttpClientRequest,
  duration: Duration.Duration,
  what: string
): HttpClientError.RequestError =>
  new HttpClientError.RequestError({
    request,
    reason: "Transport",
    cause: new Cause.TimeoutException(`timed out after ${Duration.format(duration)}`),
    description: `timed out: ${what} within ${Duration.format(duration)}`
  })

/**
 * Bounds an exchange (request sent, body read) in time: past `duration` it is interrupted and fails with
 * {@link timedOut}.
 *
 * @internal
 */
export const withTimeout = (
  duration: Duration.Duration,
  request: HttpClientRequest.HttpClientRequest,
  what: string
) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | HttpClientError.RequestError, R> =>
  Effect.raceFirst(
    self,
    Effect.zipRight(Effect.sleep(duration), Effect.failSync(() => timedOut(request, duration, what)))
  )
