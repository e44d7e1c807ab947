import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import type * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { ClientClosed, ConfigurationError } from "./errors.js"

/**
 * The services of one layer, built once, run as Promises: each effect in a fiber of its own, its failure
 * rejected as the very error it failed with.
 *
 * @internal
 */
export interface Runner<R> {
  /**
   * Runs `effect`. It rejects with the effect's error itself (a `ConfigError` of the layer as a
   * `ConfigurationError`), a defect as the value thrown, an abort of `signal` with the signal's reason, and a
   * call cut short by `close` with `ClientClosed`.
   */
  readonly run: <A, E>(effect: Effect.Effect<A, E, R>, signal?: AbortSignal | undefined) => Promise<A>
  /**
   * `stream` as an async iterable, pulled one chunk at a time when the iteration asks for more: nothing is
   * fetched ahead. Each iteration runs the stream afresh; leaving it (`break`, `return`, a throw) closes the
   * stream's scope, as does `close`.
   */
  readonly iterate: <A, E>(stream: Stream.Stream<A, E, R>, signal?: AbortSignal | undefined) => AsyncIterable<A>
  /** Interrupts every call and iteration still running, then releases the layer (its sockets). Idempotent. */
  readonly close: () => Promise<void>
}

/**
 * The runner of `layer`, built by the first call (and only once): a `ConfigError` of the layer rejects that
 * call and every later one as a `ConfigurationError`.
 *
 * @internal
 */
export const make = <R>(layer: Layer.Layer<R, ConfigError.ConfigError>): Runner<R> => {
  const runtime = ManagedRuntime.make(layer)

  // Every call and iteration runs in a child of this scope: closing it interrupts them all. Made with
  // `runSync` because `createClient` is synchronous and this is the edge where Promises call into Effect.
  const calls = Effect.runSync(Scope.make())
  let closed = false
  let closing: Promise<void> | undefined

  /** What a failed call rejects with. */
  const thrown = (cause: Cause.Cause<unknown>, signal: AbortSignal | undefined): unknown => {
    if (signal?.aborted === true && Cause.isInterrupted(cause)) return signal.reason
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      return ConfigError.isConfigError(failure.value)
        ? new ConfigurationError({ message: String(failure.value) })
        : failure.value
    }
    const defect = Cause.dieOption(cause)
    if (Option.isSome(defect)) return defect.value
    return closed ? new ClientClosed() : Cause.squash(cause)
  }

  const run = <A, E>(effect: Effect.Effect<A, E, R>, signal?: AbortSignal | undefined): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      if (closed) return reject(new ClientClosed())
      if (signal?.aborted === true) return reject(signal.reason)
      const fiber = runtime.runFork(effect, { scope: calls })
      const onAbort = () => fiber.unsafeInterruptAsFork(fiber.id())
      signal?.addEventListener("abort", onAbort, { once: true })
      fiber.addObserver((exit) => {
        signal?.removeEventListener("abort", onAbort)
        if (Exit.isSuccess(exit)) resolve(exit.value)
        else reject(thrown(exit.cause, signal))
      })
    })

  /** Ends the end of a stream (`None`) as `undefined`, its error as itself. */
  const chunkOf = <A, E>(pull: Effect.Effect<Iterable<A>, Option.Option<E>, R>) =>
    Effect.catchAll(pull, Option.match({ onNone: () => Effect.succeed(undefined), onSome: Effect.fail }))

  async function* pulls<A, E>(stream: Stream.Stream<A, E, R>, signal: AbortSignal | undefined) {
    const scope = await run(Scope.fork(calls, ExecutionStrategy.sequential))
    try {
      const pull = chunkOf(await run(Scope.extend(Stream.toPull(stream), scope), signal))
      while (true) {
        const chunk = await run(pull, signal)
        if (chunk === undefined) return
        yield* chunk
      }
    } finally {
      // Nothing is left to report at this point: the iteration ends with its own result or error.
      await Effect.runPromiseExit(Scope.close(scope, Exit.void))
    }
  }

  const iterate = <A, E>(stream: Stream.Stream<A, E, R>, signal?: AbortSignal | undefined): AsyncIterable<A> => ({
    [Symbol.asyncIterator]: () => pulls(stream, signal)
  })

  const close = (): Promise<void> => {
    if (closing === undefined) {
      closed = true
      // On the default runtime, not the client's: this is what disposes of the client's runtime.
      closing = Effect.runPromise(Effect.zipRight(Scope.close(calls, Exit.void), runtime.disposeEffect))
    }
    return closing
  }

  return { run, iterate, close }
}
