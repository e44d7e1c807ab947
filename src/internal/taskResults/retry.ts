import * as Duration from "effect/Duration"
import type * as Schedule from "effect/Schedule"
import type * as Retry from "../../Retry.js"
import * as RetryPolicy from "../retryPolicy.js"
import type { Retryable } from "./transferRules.js"

/**
 * The file host's retry policy: the API's rules (`RetryPolicy`) with one count and one backoff for every
 * kind of failure, from the file host's options and defaults (5 retries, from 500 ms, at most 30 seconds
 * apart, a `Retry-After` up to 2 minutes).
 *
 * @internal
 */
export const resolve = (options: false | Retry.RateLimitOptions | undefined): RetryPolicy.SchedulePolicy =>
  RetryPolicy.fromTimes(
    options === false
      ? { times: 0, base: Duration.zero, cap: Duration.zero, maxRetryAfter: Duration.zero }
      : {
        times: options?.times ?? 5,
        base: Duration.decode(options?.base ?? Duration.millis(500)),
        cap: Duration.decode(options?.cap ?? Duration.seconds(30)),
        maxRetryAfter: Duration.decode(options?.maxRetryAfter ?? Duration.minutes(2))
      }
  )

const verdictOf = (failure: Retryable): RetryPolicy.Verdict =>
  failure.status === 429
    ? { kind: "rate_limited", status: 429, retryAfter: failure.retryAfter }
    : { kind: "transient", status: failure.status }

/**
 * The retry schedule of the requests of one file before its body: the API's schedule (the same waits,
 * jitter, log lines and metrics), without the API's retry budget.
 *
 * @internal
 */
export const schedule = (policy: RetryPolicy.SchedulePolicy): Schedule.Schedule<RetryPolicy.State, Retryable> =>
  RetryPolicy.schedule({
    policy,
    verdictOf,
    endpoint: "file",
    describe: (failure) => failure.error.message
  })
