import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { BodyEnd } from "./transferRules.js"

/**
 * A body stopped by one of its limits; the stream fails with it.
 *
 * @internal
 */
export class BodyStopped {
  readonly _tag = "BodyStopped"
  constructor(readonly end: Exclude<BodyEnd, "complete" | "dropped">) {}
}

/**
 * The bytes in a chunk of a body.
 *
 * @internal
 */
export const sizeOf = (chunk: Iterable<Uint8Array>): number => {
  let n = 0
  for (const bytes of chunk) n += bytes.length
  return n
}

/**
 * A body's byte count against what was announced: `add` tells when the bytes so far pass `expected` (or
 * `limit` when nothing was announced), `end` when the body ended before `expected`.
 *
 * @internal
 */
export const counter = (expected: number | undefined, limit: number) => {
  const most = expected ?? limit
  let count = 0
  return {
    add: (bytes: number): BodyStopped | undefined => {
      count += bytes
      return count > most ? new BodyStopped("overflow") : undefined
    },
    end: (): BodyStopped | undefined =>
      expected !== undefined && count < expected ? new BodyStopped("short") : undefined
  }
}

/**
 * A body counted by `counter`, as a stream: it fails with `overflow` before emitting the chunk that holds
 * the first extra byte, and with `short` when it ends before `expected`.
 *
 * @internal
 */
export const bounded =
  (expected: number | undefined, limit: number) =>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | BodyStopped, R> =>
    Stream.suspend(() => {
      const count = counter(expected, limit)
      return self.pipe(
        Stream.mapChunksEffect((chunk) => {
          const stopped = count.add(sizeOf(chunk))
          return stopped === undefined ? Effect.succeed(chunk) : Effect.fail(stopped)
        }),
        Stream.concat(Stream.suspend(() => {
          const stopped = count.end()
          return stopped === undefined ? Stream.empty : Stream.fail(stopped)
        }))
      )
    })

/**
 * The speed a body must keep: some byte every `idle`, and, when `lowSpeed` is set, at least `bytesPerSecond`
 * averaged over any window of `over` (curl's `--speed-limit` / `--speed-time`).
 *
 * @internal
 */
export interface SpeedRules {
  readonly idle: Duration.Duration
  readonly lowSpeed: { readonly bytesPerSecond: number; readonly over: Duration.Duration } | undefined
}

/**
 * The bytes received so far, read at an instant.
 *
 * @internal
 */
export interface Sample {
  readonly at: number
  readonly bytes: number
}

/**
 * Whether a body breaks its speed rules, from samples of its byte count (oldest first, the first taken when
 * its headers arrived, the last now): `idle` when the count has not moved for `idle`, `slow` when the bytes
 * of the last `over` are fewer than `bytesPerSecond` allows.
 *
 * @internal
 */
export const verdict = (rules: SpeedRules, samples: ReadonlyArray<Sample>): "idle" | "slow" | undefined => {
  const last = samples[samples.length - 1]
  if (last === undefined) return undefined
  let still = samples.length - 1
  while (still > 0 && samples[still - 1]!.bytes === last.bytes) still--
  if (last.at - samples[still]!.at >= Duration.toMillis(rules.idle)) return "idle"
  if (rules.lowSpeed === undefined) return undefined
  const over = Duration.toMillis(rules.lowSpeed.over)
  // The newest sample at least `over` old: the window is judged only once it is full.
  let from = -1
  for (let i = samples.length - 1; i >= 0; i--) {
    if (last.at - samples[i]!.at >= over) {
      from = i
      break
    }
  }
  if (from === -1) return undefined
  const window = samples[from]!
  const seconds = (last.at - window.at) / 1000
  return last.bytes - window.bytes < rules.lowSpeed.bytesPerSecond * seconds ? "slow" : undefined
}

/**
 * The samples still needed to judge the next one: those within the longest window, and the newest one
 * before it.
 *
 * @internal
 */
export const trim = (rules: SpeedRules, samples: ReadonlyArray<Sample>): ReadonlyArray<Sample> => {
  const last = samples[samples.length - 1]
  if (last === undefined) return samples
  const span = Math.max(Duration.toMillis(rules.idle), rules.lowSpeed ? Duration.toMillis(rules.lowSpeed.over) : 0)
  let first = 0
  while (first + 1 < samples.length && last.at - samples[first + 1]!.at >= span) first++
  return first === 0 ? samples : samples.slice(first)
}

/**
 * How often the count is read: a tenth of the shortest window, so that a rule is noticed at most 10% late,
 * at no cost per chunk.
 *
 * @internal
 */
export const tickOf = (rules: SpeedRules): Duration.Duration => {
  const shortest = rules.lowSpeed === undefined
    ? Duration.toMillis(rules.idle)
    : Math.min(Duration.toMillis(rules.idle), Duration.toMillis(rules.lowSpeed.over))
  return Duration.millis(Math.max(1, shortest / 10))
}

/**
 * Runs `use` under the speed rules: `use` gets a function to count a body's bytes with as they pass (a plain
 * call, no stream stage), and one fiber reads the count every tick, failing with `idle` or `slow` once a rule is broken; whichever ends first
 * ends the other (the request is then aborted by its scope). One watcher per body raced against its whole
 * run, not per chunk: `Stream.interruptWhen` would run every pull of the body in a fiber of its own.
 *
 * @internal
 */
export const withSpeedRules = <A, E, R>(
  rules: SpeedRules,
  use: (tally: (bytes: number) => void) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | BodyStopped, R> =>
  Effect.suspend(() => {
    let bytes = 0
    const tally = (n: number) => {
      bytes += n
    }
    const watch = Effect.flatMap(Clock.currentTimeMillis, (start) => {
      let samples: ReadonlyArray<Sample> = [{ at: start, bytes: 0 }]
      const check = Effect.flatMap(Clock.currentTimeMillis, (at) => {
        samples = trim(rules, [...samples, { at, bytes }])
        const broken = verdict(rules, samples)
        return broken === undefined ? Effect.void : Effect.fail(new BodyStopped(broken))
      })
      return Effect.zipRight(Effect.repeat(check, Schedule.spaced(tickOf(rules))), Effect.never)
    })
    return Effect.raceFirst(use(tally), watch)
  })
