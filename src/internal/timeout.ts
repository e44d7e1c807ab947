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
 * The one time limit of the library (an attempt, a call, a token request): past `duration` the effect is
 * interrupted, which aborts its request and its body through the platform client's `AbortSignal`, and it
 * fails with {@link timedOut}.
 *
 * @internal
 */
export const withTimeout = (
  duration: Duration.Duration,
  request: HttpClientRequest.HttpClientRequest,
  what: string
) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | HttpClientError.RequestError, R> =>
  Effect.timeoutFail(self, { duration, onTimeout: () => timedOut(request, duration, what) })
