import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type * as Retry from "../Retry.js"

/**
 * A token bucket shared by every call of one client (the AWS SDK's standard retry strategy): a retry
 * spends tokens, a success puts some back. When the bucket runs dry, calls stop retrying.
 *
 * @internal
 */
export interface RetryBudget {
  /** Spends the cost of one retry (a timeout costs more); `false` when the bucket cannot pay it. */
  readonly spend: (timedOut: boolean) => Effect.Effect<boolean>
  /** Puts back what a success earns: the cost of the retry that succeeded, or 1 after no retry. */
  readonly refund: (afterRetry: boolean) => Effect.Effect<void>
}

/** @internal */
export const make = (options: Retry.BudgetOptions = {}): Effect.Effect<RetryBudget> => {
  const capacity = options.capacity ?? 500
  const cost = options.cost ?? 5
  const timeoutCost = options.timeoutCost ?? 10
  return Effect.map(Ref.make(capacity), (tokens) => ({
    spend: (timedOut) => {
      const price = timedOut ? timeoutCost : cost
      return Ref.modify(tokens, (left) => left >= price ? [true, left - price] : [false, left])
    },
    refund: (afterRetry) => Ref.update(tokens, (left) => Math.min(capacity, left + (afterRetry ? cost : 1)))
  }))
}

/**
 * No budget: every retry the policy allows is made.
 *
 * @internal
 */
export const unlimited: RetryBudget = { spend: () => Effect.succeed(true), refund: () => Effect.void }
