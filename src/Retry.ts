/**
 * How calls are retried: the options shared by the API client and the token endpoint.
 *
 * @since 0.2.0
 */
import type * as Duration from "effect/Duration"

/**
 * Retries of rate-limited (429) answers.
 *
 * @since 0.2.0
 * @category options
 */
export interface RateLimitOptions {
  /** How many retries at most. Default: 8. */
  readonly times?: number | undefined
  /** The first backoff bound when no `Retry-After` is sent; it doubles each retry. Default: 1 second. */
  readonly base?: Duration.DurationInput | undefined
  /** The largest backoff bound. Default: 60 seconds. */
  readonly cap?: Duration.DurationInput | undefined
  /** A `Retry-After` longer than this fails at once instead of waiting. Default: 5 minutes. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
}

/**
 * Retries of 5xx answers, transport failures and timed-out attempts.
 *
 * @since 0.2.0
 * @category options
 */
export interface TransientOptions {
  /** How many retries at most. Default: 3. */
  readonly times?: number | undefined
  /** The first wait; it doubles each retry. Default: 500 milliseconds. */
  readonly base?: Duration.DurationInput | undefined
}

/**
 * The retry options of one endpoint, each with its default.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Credentials, TextRevealClient } from "effect-textreveal"
 *
 * // Fewer, shorter retries for an interactive tool; the token requests follow the same options.
 * const retryOptions = {
 *   retry: { times: 2, cap: "10 seconds", maxRetryAfter: "30 seconds" },
 *   transientRetry: { times: 1 },
 *   maxAttempts: 3,
 *   maxRetryTime: "20 seconds",
 *   timeout: "5 seconds"
 * } as const
 *
 * export const Interactive = TextRevealClient.layer({ ...retryOptions, retryBudget: false }).pipe(
 *   Layer.provide(Credentials.layerPassword({ username: "my-api-key", password: "my-api-secret", ...retryOptions }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category options
 */
export interface Options {
  /** Retries of 429s, or `false` for none. Default: see {@link RateLimitOptions}. */
  readonly retry?: false | RateLimitOptions | undefined
  /** Retries of 5xx, transport failures and timeouts, or `false` for none. Default: see {@link TransientOptions}. */
  readonly transientRetry?: false | TransientOptions | undefined
  /**
   * The most requests one call may make, whatever failed: retries of every kind and a repeat after a token
   * renewal included. Default: 9 (1 + the 429 budget).
   */
  readonly maxAttempts?: number | undefined
  /**
   * The most time one call may spend waiting between attempts, all waits added up. A wait that would go
   * past it (a long `Retry-After`) ends the call at once with the last error. Default: 5 minutes.
   */
  readonly maxRetryTime?: Duration.DurationInput | undefined
  /**
   * The time one attempt may take, from sending the request to the last byte of the answer. A timed-out
   * attempt is a transient failure: retried, then a `RequestError` that says it timed out. Default: 30 seconds.
   */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A retry budget shared by every call of one client, in the manner of the AWS SDK's standard retry
 * strategy: a bucket of `capacity` tokens; each retry spends `cost` (`timeoutCost` after a timeout), each
 * success puts back what its retries spent (or 1 when it needed none). An empty bucket ends calls with
 * their last error instead of retrying, so that under a storm a thousand callers do not multiply the load.
 *
 * @since 0.2.0
 * @category options
 */
export interface BudgetOptions {
  /** Default: 500. */
  readonly capacity?: number | undefined
  /** Default: 5. */
  readonly cost?: number | undefined
  /** Default: 10. */
  readonly timeoutCost?: number | undefined
}
