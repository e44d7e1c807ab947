import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import type * as TextRevealError from "../TextRevealError.js"

/** @internal */
export interface RateLimitPolicy {
  readonly times: number
  readonly base: Duration.Duration
  readonly cap: Duration.Duration
  readonly maxRetryAfter: Duration.Duration
}

/** @internal */
export interface TransientPolicy {
  readonly times: number
  readonly base: Duration.Duration
}

/** @internal */
export interface Policy {
  readonly rateLimit: RateLimitPolicy | false
  readonly transient: TransientPolicy | false
}

/**
 * The user-facing retry options (see `TextRevealClient.Options`), resolved against the defaults.
 *
 * @internal
 */
export const resolve = (options: {
  readonly retry?: false | {
    readonly times?: number | undefined
    readonly base?: Duration.DurationInput | undefined
    readonly cap?: Duration.DurationInput | undefined
    readonly maxRetryAfter?: Duration.DurationInput | undefined
  } | undefined
  readonly transientRetry?: false | {
    readonly times?: number | undefined
    readonly base?: Duration.DurationInput | undefined
  } | undefined
}): Policy => ({
  rateLimit: options.retry === false ? false : {
    times: options.retry?.times ?? 8,
    base: Duration.decode(options.retry?.base ?? Duration.seconds(1)),
    cap: Duration.decode(options.retry?.cap ?? Duration.seconds(60)),
    maxRetryAfter: Duration.decode(options.retry?.maxRetryAfter ?? Duration.minutes(5))
  },
  transient: options.transientRetry === false ? false : {
    times: options.transientRetry?.times ?? 3,
    base: Duration.decode(options.transientRetry?.base ?? Duration.millis(500))
  }
})

type Verdict =
  | { readonly _tag: "RateLimited"; readonly retryAfter: Option.Option<Duration.Duration> }
  | { readonly _tag: "Transient"; readonly status: number | "transport" }
  | { readonly _tag: "Final" }

/**
 * An error that is never retried, whatever its kind: e.g. a token that could not be obtained, whose own
 * requests were already retried.
 *
 * @internal
 */
export class NoRetry<E> {
  readonly _tag = "NoRetry"
  constructor(readonly error: E) {}
}

/** @internal */
export type RetryInput = TextRevealError.TextRevealError | HttpClientError.HttpClientError | NoRetry<unknown>

const classify = (error: RetryInput): Verdict => {
  switch (error._tag) {
    case "TooManyRequests":
      return { _tag: "RateLimited", retryAfter: Option.fromNullable(error.retryAfter) }
    case "ServerError":
      return { _tag: "Transient", status: error.status }
    case "RequestError":
      return error.reason === "Transport" ? { _tag: "Transient", status: "transport" } : { _tag: "Final" }
    default:
      return { _tag: "Final" }
  }
}

interface State {
  readonly rateLimited: number
  readonly transient: number
}

/** What one retry decision logs: which attempt failed, how, and how long until the next one. */
interface Retry {
  readonly attempt: number
  readonly status: number | "transport"
  readonly delay: Duration.Duration
}

const exponential = (base: Duration.Duration, n: number, cap?: Duration.Duration): Duration.Duration => {
  const millis = Duration.toMillis(base) * 2 ** n
  return Duration.millis(cap === undefined ? millis : Math.min(millis, Duration.toMillis(cap)))
}

const nextDelay = (
  policy: Policy,
  verdict: Verdict,
  state: State
): Effect.Effect<Option.Option<readonly [State, Duration.Duration]>> => {
  switch (verdict._tag) {
    case "RateLimited": {
      const rate = policy.rateLimit
      if (rate === false || state.rateLimited >= rate.times) return Effect.succeedNone
      const next = { ...state, rateLimited: state.rateLimited + 1 }
      if (Option.isSome(verdict.retryAfter)) {
        return Effect.succeed(
          Duration.greaterThan(verdict.retryAfter.value, rate.maxRetryAfter)
            ? Option.none()
            : Option.some([next, verdict.retryAfter.value] as const)
        )
      }
      // Full jitter: a uniform wait up to the exponential bound, so that clients do not retry in step.
      const bound = Duration.toMillis(exponential(rate.base, state.rateLimited, rate.cap))
      return Effect.map(Random.next, (r) => Option.some([next, Duration.millis(Math.floor(r * bound))] as const))
    }
    case "Transient": {
      const transient = policy.transient
      if (transient === false || state.transient >= transient.times) return Effect.succeedNone
      return Effect.succeed(
        Option.some(
          [{ ...state, transient: state.transient + 1 }, exponential(transient.base, state.transient)] as const
        )
      )
    }
    case "Final":
      return Effect.succeedNone
  }
}

/**
 * The retry schedule of one call, fed with its errors: 429s wait for `Retry-After` or back off
 * exponentially with full jitter; 5xx and transport failures back off exponentially; everything else
 * stops at once. The two budgets are counted separately. Each retry is logged with `currentAttempt`, the
 * number of the request that failed.
 *
 * @internal
 */
export const schedule = (
  policy: Policy,
  currentAttempt: Effect.Effect<number>
): Schedule.Schedule<Option.Option<Retry>, RetryInput> =>
  Schedule.makeWithState<State, RetryInput, Option.Option<Retry>>(
    { rateLimited: 0, transient: 0 },
    (now, error, state) => {
      const verdict = classify(error)
      return Effect.flatMap(nextDelay(policy, verdict, state), (decision) => {
        if (Option.isNone(decision) || verdict._tag === "Final") {
          return Effect.succeed([state, Option.none(), ScheduleDecision.done] as const)
        }
        const [next, delay] = decision.value
        return Effect.gen(function*() {
          const retry: Retry = {
            attempt: yield* currentAttempt,
            status: verdict._tag === "RateLimited" ? 429 : verdict.status,
            delay
          }
          yield* Effect.logWarning("TextReveal request failed, retrying").pipe(
            Effect.annotateLogs({ attempt: retry.attempt, status: retry.status, delay: Duration.format(delay) })
          )
          return [
            next,
            Option.some(retry),
            ScheduleDecision.continueWith(ScheduleInterval.after(now + Duration.toMillis(delay)))
          ] as const
        })
      })
    }
  )
