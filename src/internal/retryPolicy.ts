import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import type * as Retry from "../Retry.js"
import * as Metrics from "./metrics.js"
import type { RetryBudget } from "./retryBudget.js"

/**
 * The retry options, resolved against their defaults.
 *
 * @internal
 */
export interface Policy {
  readonly rateLimit: false | {
    readonly times: number
    readonly base: Duration.Duration
    readonly cap: Duration.Duration
    readonly maxRetryAfter: Duration.Duration
  }
  readonly transient: false | { readonly times: number; readonly base: Duration.Duration }
  readonly maxAttempts: number
  readonly maxRetryTime: Duration.Duration
  readonly timeout: Duration.Duration
}

/** @internal */
export const resolve = (options: Retry.Options): Policy => ({
  rateLimit: options.retry === false ? false : {
    times: options.retry?.times ?? 8,
    base: Duration.decode(options.retry?.base ?? Duration.seconds(1)),
    cap: Duration.decode(options.retry?.cap ?? Duration.seconds(60)),
    maxRetryAfter: Duration.decode(options.retry?.maxRetryAfter ?? Duration.minutes(5))
  },
  transient: options.transientRetry === false ? false : {
    times: options.transientRetry?.times ?? 3,
    base: Duration.decode(options.transientRetry?.base ?? Duration.millis(500))
  },
  maxAttempts: options.maxAttempts ?? 9,
  maxRetryTime: Duration.decode(options.maxRetryTime ?? Duration.minutes(5)),
  timeout: Duration.decode(options.timeout ?? Duration.seconds(30))
})

/**
 * Why a failed attempt may be retried: rate limited (with the server's `Retry-After`, when sent), a
 * transient failure (5xx, transport, timeout), or a token the API rejected and that was renewed.
 *
 * @internal
 */
export type Verdict =
  | { readonly kind: "rate_limited"; readonly status: 429; readonly retryAfter: Duration.Duration | undefined }
  | { readonly kind: "transient"; readonly status: number | "transport" | "timeout" }
  | { readonly kind: "renewal"; readonly status: number }

/**
 * One retry decided: which kind, after which attempt, the status that failed it and the wait before the
 * next attempt.
 *
 * @internal
 */
export interface Decision {
  readonly kind: Verdict["kind"]
  readonly attempt: number
  readonly status: Verdict["status"]
  readonly delay: Duration.Duration
}

type Step = Effect.Effect<readonly [State, Decision | undefined, ScheduleDecision.ScheduleDecision]>

interface State {
  readonly attempts: number
  readonly waitedMillis: number
  readonly rateLimited: number
  readonly transient: number
  readonly renewal: number
}

const initial: State = { attempts: 1, waitedMillis: 0, rateLimited: 0, transient: 0, renewal: 0 }

/** Exponential: `base * 2^n`, at most `cap`. */
const exponential = (base: Duration.Duration, n: number, cap?: Duration.Duration): number =>
  Math.min(Duration.toMillis(base) * 2 ** n, cap === undefined ? Infinity : Duration.toMillis(cap))

/**
 * The wait before the next attempt, always jittered so that callers told the same thing do not come back
 * in step: a `Retry-After` or a transient backoff gets a random 0-20% on top; a 429 without `Retry-After`
 * waits a uniform random part of its exponential bound (full jitter).
 */
const waitFor = (policy: Policy, verdict: Verdict, state: State): Effect.Effect<number | undefined> => {
  switch (verdict.kind) {
    case "renewal":
      return Effect.succeed(state.renewal < 1 ? 0 : undefined)
    case "rate_limited": {
      const rate = policy.rateLimit
      if (rate === false || state.rateLimited >= rate.times) return Effect.succeed(undefined)
      if (verdict.retryAfter !== undefined) {
        if (Duration.greaterThan(verdict.retryAfter, rate.maxRetryAfter)) return Effect.succeed(undefined)
        const wait = Duration.toMillis(verdict.retryAfter)
        return Effect.map(Random.next, (r) => wait + Math.max(r * 0.2 * wait, r * 100))
      }
      const bound = exponential(rate.base, state.rateLimited, rate.cap)
      return Effect.map(Random.next, (r) => r * bound)
    }
    case "transient": {
      const transient = policy.transient
      if (transient === false || state.transient >= transient.times) return Effect.succeed(undefined)
      const wait = exponential(transient.base, state.transient)
      return Effect.map(Random.next, (r) => wait * (1 + 0.2 * r))
    }
  }
}

const counted = (state: State, verdict: Verdict, waited: number): State => ({
  attempts: state.attempts + 1,
  waitedMillis: state.waitedMillis + waited,
  rateLimited: state.rateLimited + (verdict.kind === "rate_limited" ? 1 : 0),
  transient: state.transient + (verdict.kind === "transient" ? 1 : 0),
  renewal: state.renewal + (verdict.kind === "renewal" ? 1 : 0)
})

/**
 * The retry schedule of one call, fed with its errors. `verdictOf` says whether an error may be retried and
 * why; each kind has its own budget (429s, transient failures, one renewal), and all kinds share a cap on
 * the requests of the call (`maxAttempts`), on the time spent waiting (`maxRetryTime`) and the client's
 * retry budget. Each retry is logged at `WARN`; a retry refused by the budget at `ERROR`.
 *
 * The per-kind budgets are why this is one stateful step rather than a composition of `recurs`: a 503
 * between two 429s must count against the transient budget only.
 *
 * @internal
 */
export const schedule = <E>(
  policy: Policy,
  budget: RetryBudget,
  verdictOf: (error: E) => Verdict | undefined,
  describe: (error: E) => string,
  endpoint: Metrics.Endpoint
): Schedule.Schedule<Decision | undefined, E> =>
  Schedule.makeWithState<State, E, Decision | undefined>(initial, (now, error, state) => {
    const done = Effect.succeed([state, undefined, ScheduleDecision.done] as const)
    const verdict = verdictOf(error)
    if (verdict === undefined || state.attempts >= policy.maxAttempts) return done
    return Effect.flatMap(waitFor(policy, verdict, state), (wait) => {
      if (wait === undefined || state.waitedMillis + wait > Duration.toMillis(policy.maxRetryTime)) return done
      const millis = Math.round(wait)
      return Effect.flatMap(budget.spend(verdict.status === "timeout"), (paid): Step => {
        if (!paid) {
          return Effect.logError("TextReveal retry budget exhausted: not retrying").pipe(
            Effect.annotateLogs({ attempt: state.attempts, failure: describe(error) }),
            Effect.zipRight(Metric.increment(Metrics.retryBudgetExhausted)),
            Effect.zipRight(done)
          )
        }
        const decision: Decision = {
          kind: verdict.kind,
          attempt: state.attempts,
          status: verdict.status,
          delay: Duration.millis(millis)
        }
        return Effect.as(
          Effect.logWarning("TextReveal request failed, retrying").pipe(
            Effect.zipRight(Metrics.recordRetry(endpoint, verdict.kind)),
            Effect.annotateLogs({
              attempt: decision.attempt,
              status: decision.status,
              reason: decision.kind,
              failure: describe(error),
              delay: Duration.format(decision.delay)
            })
          ),
          [
            counted(state, verdict, millis),
            decision,
            ScheduleDecision.continueWith(ScheduleInterval.after(now + millis))
          ] as const
        )
      })
    })
  })

/**
 * The verdict on an error of one attempt, whatever the endpoint: 429s are rate limited, 5xx, transport
 * failures and timeouts transient; everything else (4xx, decode failures, bodies over the limit, invalid
 * URLs) final.
 *
 * @internal
 */
export const verdictOf = (
  error: {
    readonly _tag: string
    readonly status?: number
    readonly reason?: string
    readonly cause?: unknown
    readonly retryAfter?: Duration.Duration | undefined
  }
): Verdict | undefined => {
  switch (error._tag) {
    case "TooManyRequests":
      return { kind: "rate_limited", status: 429, retryAfter: error.retryAfter }
    case "ServerError":
      return { kind: "transient", status: error.status ?? 500 }
    case "RequestError":
      if (error.reason !== "Transport") return undefined
      return { kind: "transient", status: Cause.isTimeoutException(error.cause) ? "timeout" : "transport" }
    default:
      return undefined
  }
}
