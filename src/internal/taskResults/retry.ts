import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as Metrics from "../metrics.js"
import { parseRetryAfter } from "../retryAfter.js"

/**
 * A failed request to the file host, before any byte of the file: a status that is not the file, or no
 * answer at all. `retryable` for 408, 429, 5xx and transport failures.
 *
 * @internal
 */
export class HostFailure {
  readonly _tag = "HostFailure"
  constructor(
    readonly kind: "Status" | "Transport",
    readonly status: number | undefined,
    readonly retryAfter: Option.Option<Duration.Duration>,
    readonly retryable: boolean,
    readonly detail: string
  ) {}
}

/** @internal */
export const retryableStatus = (status: number): boolean =>
  status === 408 || status === 429 || (status >= 500 && status <= 599)

/**
 * A status answered by the file host, with its `Retry-After` read against `nowMillis` (from `Clock`).
 *
 * @internal
 */
export const statusFailure = (status: number, retryAfter: string | undefined, nowMillis: number): HostFailure =>
  new HostFailure(
    "Status",
    status,
    parseRetryAfter(retryAfter, nowMillis),
    retryableStatus(status),
    `the file host answered ${status}`
  )

/**
 * The file host's retry policy, resolved against the defaults.
 *
 * @internal
 */
export interface Policy {
  readonly times: number
  readonly base: Duration.Duration
  readonly cap: Duration.Duration
  readonly maxRetryAfter: Duration.Duration
}

/** @internal */
export interface PolicyOptions {
  readonly times?: number | undefined
  readonly base?: Duration.DurationInput | undefined
  readonly cap?: Duration.DurationInput | undefined
  readonly maxRetryAfter?: Duration.DurationInput | undefined
}

/** @internal */
export const resolve = (options: false | PolicyOptions | undefined): Policy =>
  options === false
    ? { times: 0, base: Duration.zero, cap: Duration.zero, maxRetryAfter: Duration.zero }
    : {
      times: options?.times ?? 5,
      base: Duration.decode(options?.base ?? Duration.millis(500)),
      cap: Duration.decode(options?.cap ?? Duration.seconds(30)),
      maxRetryAfter: Duration.decode(options?.maxRetryAfter ?? Duration.minutes(2))
    }

/**
 * The retry schedule of one request to the file host, fed with its failures: bounded by `times`; waits for
 * `Retry-After` when the host sent one (and stops when it is longer than `maxRetryAfter`), otherwise an
 * exponential backoff from `base`, capped at `cap`, with jitter (a uniform wait between half the bound and
 * the bound). Failures that are not retryable stop at once.
 *
 * @internal
 */
export const schedule = (policy: Policy): Schedule.Schedule<number, HostFailure> =>
  Schedule.makeWithState<number, HostFailure, number>(0, (now, failure, attempt) => {
    const stop = Effect.succeed([attempt, attempt, ScheduleDecision.done] as const)
    if (!failure.retryable || attempt >= policy.times) return stop
    const continueAfter = (delay: Duration.Duration) =>
      Effect.as(
        Metrics.recordRetry("file", failure.status === 429 ? "rate_limited" : "transient"),
        [
          attempt + 1,
          attempt + 1,
          ScheduleDecision.continueWith(ScheduleInterval.after(now + Duration.toMillis(delay)))
        ] as const
      )
    if (Option.isSome(failure.retryAfter)) {
      return Duration.greaterThan(failure.retryAfter.value, policy.maxRetryAfter)
        ? stop
        : continueAfter(failure.retryAfter.value)
    }
    const bound = Math.min(Duration.toMillis(policy.base) * 2 ** attempt, Duration.toMillis(policy.cap))
    return Effect.flatMap(Random.next, (r) => continueAfter(Duration.millis(Math.floor(bound * (0.5 + r / 2)))))
  })
