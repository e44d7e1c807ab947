/**
 * Retries: the policy resolved from the options, the verdict read from an error, the decision after each
 * failure (a pure function of plain data), and the `Schedule` built from them.
 *
 * @internal
 */
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
 * How failures are retried: each kind with its own count and backoff, and caps shared by all kinds. Any
 * caller with its own numbers can fill it (see {@link fromTimes}).
 *
 * @internal
 */
export interface SchedulePolicy {
  /** 429s: at most `times`; `Retry-After` honoured up to `maxRetryAfter`, else full-jitter backoff from `base`, at most `cap`. */
  readonly rateLimit: false | {
    readonly times: number
    readonly base: Duration.Duration
    readonly cap: Duration.Duration
    readonly maxRetryAfter: Duration.Duration
  }
  /** 5xx, transport failures, timeouts: at most `times`, after `base` doubling (at most `cap`) plus 0-20%. */
  readonly transient: false | {
    readonly times: number
    readonly base: Duration.Duration
    readonly cap: Duration.Duration
  }
  /** Requests per call, every kind of retry and a repeat after a renewal included. */
  readonly maxAttempts: number
  /** All waits of one call added up. */
  readonly maxRetryTime: Duration.Duration
}

/**
 * The retry options of the client or the token endpoint, resolved against their defaults, with the time
 * limit of one attempt.
 *
 * @internal
 */
export interface Policy extends SchedulePolicy {
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
    base: Duration.decode(options.transientRetry?.base ?? Duration.millis(500)),
    cap: Duration.infinity
  },
  maxAttempts: options.maxAttempts ?? 9,
  maxRetryTime: Duration.decode(options.maxRetryTime ?? Duration.minutes(5)),
  timeout: Duration.decode(options.timeout ?? Duration.seconds(30))
})

/**
 * One count and one backoff for every kind of failure (`times` retries in all), as the file host's options
 * say it: `{ times, base, cap, maxRetryAfter }`.
 *
 * @internal
 */
export const fromTimes = (options: {
  readonly times: number
  readonly base: Duration.Duration
  readonly cap: Duration.Duration
  readonly maxRetryAfter: Duration.Duration
}): SchedulePolicy => ({
  rateLimit: options,
  transient: { times: options.times, base: options.base, cap: options.cap },
  maxAttempts: options.times + 1,
  maxRetryTime: Duration.infinity
})

/**
 * Why a failed attempt may be retried: rate limited (with the server's `Retry-After`, when sent), a
 * transient failure (5xx, transport, timeout), or a token the API rejected that the credentials renew.
 *
 * @internal
 */
export type Verdict =
  | { readonly kind: "rate_limited"; readonly status: 429; readonly retryAfter: Duration.Duration | undefined }
  | { readonly kind: "transient"; readonly status: number | "transport" | "timeout" }
  | { readonly kind: "renewal"; readonly status: number }

/**
 * What a call has used up so far: requests, time waited, retries of each kind, and retry-budget tokens spent.
 *
 * @internal
 */
export interface State {
  readonly attempts: number
  readonly waitedMillis: number
  readonly rateLimited: number
  readonly transient: number
  readonly renewal: number
  readonly spent: number
}

/** @internal */
export const initial: State = { attempts: 1, waitedMillis: 0, rateLimited: 0, transient: 0, renewal: 0, spent: 0 }

/**
 * What to do after a failed attempt. A `Retry` says whether the retry budget must pay for it: a repeat after
 * a token renewal never does (it is single-flight, not a storm).
 *
 * @internal
 */
export type Step =
  | { readonly _tag: "Stop" }
  | {
    readonly _tag: "Retry"
    readonly kind: Verdict["kind"]
    readonly status: Verdict["status"]
    readonly delayMillis: number
    readonly paid: boolean
  }

const stop: Step = { _tag: "Stop" }

/** `base * 2^n`, at most `cap`, in milliseconds. */
const exponential = (base: Duration.Duration, n: number, cap: Duration.Duration): number =>
  Math.min(Duration.toMillis(base) * 2 ** n, Duration.toMillis(cap))

/**
 * The wait before the next attempt, always jittered by `random` (in [0, 1)) so that callers told the same
 * thing do not come back in step: a `Retry-After` gets 0-20% on top (at least up to 100 ms); a transient
 * backoff 0-20% on top; a 429 without `Retry-After` a uniform part of its exponential bound (full jitter).
 * `undefined`: this kind may not be retried again.
 */
const delayOf = (policy: SchedulePolicy, verdict: Verdict, state: State, random: number): number | undefined => {
  switch (verdict.kind) {
    case "renewal":
      return state.renewal < 1 ? 0 : undefined
    case "rate_limited": {
      const rate = policy.rateLimit
      if (rate === false || state.rateLimited >= rate.times) return undefined
      if (verdict.retryAfter !== undefined) {
        if (Duration.greaterThan(verdict.retryAfter, rate.maxRetryAfter)) return undefined
        const wait = Duration.toMillis(verdict.retryAfter)
        return wait + Math.max(random * 0.2 * wait, random * 100)
      }
      return random * exponential(rate.base, state.rateLimited, rate.cap)
    }
    case "transient": {
      const transient = policy.transient
      if (transient === false || state.transient >= transient.times) return undefined
      return exponential(transient.base, state.transient, transient.cap) * (1 + 0.2 * random)
    }
  }
}

/**
 * The decision after a failed attempt, from the policy, what the call has used up, the verdict on its error
 * (`undefined`: final) and a random number in [0, 1) for the jitter. Pure.
 *
 * @internal
 */
export const decide = (
  policy: SchedulePolicy,
  state: State,
  verdict: Verdict | undefined,
  random: number
): Step => {
  if (verdict === undefined || state.attempts >= policy.maxAttempts) return stop
  const delay = delayOf(policy, verdict, state, random)
  if (delay === undefined) return stop
  const delayMillis = Math.round(delay)
  if (state.waitedMillis + delayMillis > Duration.toMillis(policy.maxRetryTime)) return stop
  return { _tag: "Retry", kind: verdict.kind, status: verdict.status, delayMillis, paid: verdict.kind !== "renewal" }
}

/**
 * The state after a retry, `cost` being what the budget was paid for it.
 *
 * @internal
 */
export const advance = (state: State, step: Extract<Step, { _tag: "Retry" }>, cost: number): State => ({
  attempts: state.attempts + 1,
  waitedMillis: state.waitedMillis + step.delayMillis,
  rateLimited: state.rateLimited + (step.kind === "rate_limited" ? 1 : 0),
  transient: state.transient + (step.kind === "transient" ? 1 : 0),
  renewal: state.renewal + (step.kind === "renewal" ? 1 : 0),
  spent: state.spent + cost
})

/**
 * The verdict on an error, read from the error itself: 429s are rate limited; 5xx, transport failures and
 * timeouts transient (only when the request may be sent twice: `idempotent`); a 401/403 marked `renewable`
 * is a renewal; everything else (4xx, decode failures, bodies over the limit, invalid URLs) final.
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
    readonly renewable?: boolean | undefined
  },
  idempotent = true
): Verdict | undefined => {
  switch (error._tag) {
    case "TooManyRequests":
      return { kind: "rate_limited", status: 429, retryAfter: error.retryAfter }
    case "ServerError":
      return idempotent ? { kind: "transient", status: error.status ?? 500 } : undefined
    case "RequestError":
      if (error.reason !== "Transport" || !idempotent) return undefined
      return { kind: "transient", status: Cause.isTimeoutException(error.cause) ? "timeout" : "transport" }
    case "Unauthorized":
    case "Forbidden":
      return error.renewable === true ? { kind: "renewal", status: error.status ?? 401 } : undefined
    default:
      return undefined
  }
}

/**
 * What the schedule needs besides the policy.
 *
 * @internal
 */
export interface ScheduleOptions<E> {
  readonly policy: SchedulePolicy
  /** The verdict on an error; `undefined` ends the call with it. */
  readonly verdictOf: (error: E) => Verdict | undefined
  /** A retry budget shared with other calls, asked before every paid retry. Default: none. */
  readonly budget?: RetryBudget | undefined
  /** Which endpoint the retries are counted under in the metrics (fixed, or read from the error). */
  readonly endpoint: Metrics.Endpoint | ((error: E) => Metrics.Endpoint)
  /** The error in the retry log line. Default: its `message`, cut to 200 characters. */
  readonly describe?: ((error: E) => string) | undefined
}

const describeMessage = (error: unknown): string =>
  String((error as { readonly message?: unknown } | null)?.message ?? error).slice(0, 200)

/**
 * The retry schedule of one call, fed with its errors: {@link decide} at each failure, then the budget asked
 * for a paid retry. Each retry is logged at `WARN` (`attempt`, `status`, `reason`, `failure`, `delay`) and
 * counted; a retry refused by the budget is logged at `ERROR`. Its output is the call's {@link State}, so that
 * a success can give the budget back what the call spent (`Schedule.CurrentIterationMetadata`).
 *
 * @internal
 */
export const schedule = <E>(options: ScheduleOptions<E>): Schedule.Schedule<State, E> => {
  const { budget, endpoint, policy } = options
  const describe = options.describe ?? describeMessage
  return Schedule.makeWithState<State, E, State>(initial, (now, error, state) => {
    const done = Effect.succeed([state, state, ScheduleDecision.done] as const)
    const verdict = options.verdictOf(error)
    if (verdict === undefined) return done
    return Effect.flatMap(Random.next, (random) => {
      const step = decide(policy, state, verdict, random)
      if (step._tag === "Stop") return done
      const cost = step.paid && budget !== undefined ? budget.costOf(step.status === "timeout") : 0
      const paid = cost === 0 ? Effect.succeed(true) : budget!.spend(cost)
      return Effect.flatMap(paid, (ok) => {
        if (!ok) {
          return Effect.logError("TextReveal retry budget exhausted: not retrying").pipe(
            Effect.annotateLogs({ attempt: state.attempts, failure: describe(error) }),
            Effect.zipRight(Metric.increment(Metrics.retryBudgetExhausted)),
            Effect.zipRight(done)
          )
        }
        const next = advance(state, step, cost)
        return Effect.logWarning("TextReveal request failed, retrying").pipe(
          Effect.annotateLogs({
            attempt: state.attempts,
            status: step.status,
            reason: step.kind,
            failure: describe(error),
            delay: Duration.format(Duration.millis(step.delayMillis))
          }),
          Effect.zipRight(Metrics.recordRetry(typeof endpoint === "function" ? endpoint(error) : endpoint, step.kind)),
          Effect.as(
            [next, next, ScheduleDecision.continueWith(ScheduleInterval.after(now + step.delayMillis))] as const
          )
        )
      })
    })
  })
}
