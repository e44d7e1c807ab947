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
  /** The price of one retry: `timeoutCost` after a timeout, else `cost`. */
  readonly costOf: (timedOut: boolean) => number
  /** Spends `price` tokens; `false` (and nothing spent) when the bucket cannot pay it. */
  readonly spend: (price: number) => Effect.Effect<boolean>
  /** Puts back what a successful call earns: what its retries spent, or 1 when they spent nothing. */
  readonly refund: (spent: number) => Effect.Effect<void>
}

/** @internal */
export const make = (options: Retry.BudgetOptions = {}): Effect.Effect<RetryBudget> => {
  const capacity = options.capacity ?? 500
  const cost = options.cost ?? 5
  const timeoutCost = options.timeoutCost ?? 10
  return Effect.map(Ref.make(capacity), (tokens) => ({
    costOf: (timedOut) => timedOut ? timeoutCost : cost,
    spend: (price) => Ref.modify(tokens, (left) => left >= price ? [true, left - price] : [false, left]),
    refund: (spent) => Ref.update(tokens, (left) => Math.min(capacity, left + (spent > 0 ? spent : 1)))
  }))
}
