import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"

/** An exchange in flight: when it must end, and the scope whose closing aborts its request. */
interface Entry {
  readonly deadline: number
  readonly scope: Scope.CloseableScope
  timedOut: boolean
  previous: Entry | undefined
  next: Entry | undefined
}

/**
 * Time limits for many exchanges at once, kept by one watchdog fiber rather than a timer fiber per
 * exchange: on the path that does not time out, a limit costs a scope and two list links, not a race of
 * two fibers. An exchange past its deadline has its scope closed, which aborts its request and its body
 * through the request's `AbortSignal` (`HttpClient.withScope`); the platform's clients honour it.
 *
 * @internal
 */
export interface Deadlines {
  /**
   * Runs `exchange` in a scope closed when it ends, or when `duration` has passed first; then it fails with
   * `onTimeout()` whatever the aborted request failed with.
   */
  readonly limit: <A, E, E2>(
    exchange: Effect.Effect<A, E, Scope.Scope>,
    duration: Duration.Duration,
    onTimeout: () => E2
  ) => Effect.Effect<A, E | E2>
}

/**
 * The watchdog lives in the given scope (the layer's). All limits of one client have the same duration, so
 * deadlines come in the order exchanges start: the list is kept in that order and the watchdog sleeps
 * until its head's deadline.
 *
 * @internal
 */
export const make: Effect.Effect<Deadlines, never, Scope.Scope> = Effect.gen(function*() {
  let first: Entry | undefined
  let last: Entry | undefined
  const wakeups = yield* Queue.sliding<void>(1)

  const unlink = (entry: Entry) => {
    if (entry.previous === undefined) first = entry.next
    else entry.previous.next = entry.next
    if (entry.next === undefined) last = entry.previous
    else entry.next.previous = entry.previous
    entry.previous = entry.next = undefined
  }

  const watchdog = Effect.gen(function*() {
    while (true) {
      const head = first
      if (head === undefined) {
        yield* Queue.take(wakeups)
        continue
      }
      const now = yield* Clock.currentTimeMillis
      if (head.deadline > now) {
        yield* Effect.sleep(head.deadline - now)
        continue
      }
      unlink(head)
      head.timedOut = true
      yield* Scope.close(head.scope, Exit.void)
    }
  })
  yield* Effect.forkScoped(watchdog)

  const limit = <A, E, E2>(
    exchange: Effect.Effect<A, E, Scope.Scope>,
    duration: Duration.Duration,
    onTimeout: () => E2
  ): Effect.Effect<A, E | E2> =>
    Effect.flatMap(Effect.zip(Scope.make(), Clock.currentTimeMillis), ([scope, now]) => {
      const entry: Entry = {
        deadline: now + Duration.toMillis(duration),
        scope,
        timedOut: false,
        previous: last,
        next: undefined
      }
      if (last === undefined) first = entry
      else last.next = entry
      last = entry
      if (first === entry) Queue.unsafeOffer(wakeups, undefined)
      return exchange.pipe(
        Scope.extend(scope),
        Effect.catchAll((error): Effect.Effect<never, E | E2> =>
          entry.timedOut ? Effect.fail(onTimeout()) : Effect.fail(error)
        ),
        Effect.onExit((exit) => {
          if (!entry.timedOut) unlink(entry)
          // Closing the scope aborts the request. A completed exchange has nothing left to abort (and an
          // abort costs an exception); a failed one may still hold a connection with a body half read.
          return Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, Exit.void)
        })
      )
    })

  return { limit }
})
