import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import {
  BodyStopped,
  bounded,
  type Sample,
  sizeOf,
  type SpeedRules,
  tickOf,
  trim,
  verdict,
  withSpeedRules
} from "../src/internal/taskResults/bodyLimits.js"

const rules: SpeedRules = {
  idle: Duration.seconds(60),
  lowSpeed: { bytesPerSecond: 1024, over: Duration.seconds(60) }
}

const samples = (...pairs: ReadonlyArray<readonly [seconds: number, bytes: number]>): ReadonlyArray<Sample> =>
  pairs.map(([seconds, bytes]) => ({ at: seconds * 1000, bytes }))

const bytes = (n: number) => new Uint8Array(n)

describe("bodyLimits.verdict", () => {
  const table: ReadonlyArray<readonly [string, SpeedRules, ReadonlyArray<Sample>, "idle" | "slow" | undefined]> = [
    ["nothing read yet", rules, samples([0, 0]), undefined],
    ["fast enough over the window", rules, samples([0, 0], [30, 40_000], [60, 80_000]), undefined],
    ["no byte for the idle time", rules, samples([0, 5000], [30, 90_000], [60, 90_000], [90, 90_000]), "idle"],
    [
      "no byte, but not yet for the idle time",
      rules,
      samples([0, 0], [30, 90_000], [60, 90_000], [80, 90_000]),
      undefined
    ],
    ["a trickle: 60 bytes in the last 60 s", rules, samples([0, 0], [30, 30], [60, 60]), "slow"],
    ["the window is judged only once full", rules, samples([0, 0], [30, 30]), undefined],
    ["just at the limit is enough", rules, samples([0, 0], [60, 61_440]), undefined],
    ["one byte under the limit is slow", rules, samples([0, 0], [60, 61_439]), "slow"],
    [
      "the last window counts, not the whole body",
      rules,
      samples([0, 0], [60, 10_000_000], [120, 10_000_100]),
      "slow"
    ],
    ["no low-speed rule: a trickle passes", { ...rules, lowSpeed: undefined }, samples([0, 0], [60, 60]), undefined]
  ]
  for (const [name, speedRules, taken, expected] of table) {
    it(name, () => {
      assert.strictEqual(verdict(speedRules, taken), expected)
    })
  }

  it("trim keeps the newest sample at least a window old, and those after it", () => {
    const kept = trim(rules, samples([0, 0], [10, 1], [20, 2], [70, 3], [80, 4]))
    assert.deepStrictEqual(kept, samples([20, 2], [70, 3], [80, 4]))
  })

  it("the count is read every tenth of the shortest window", () => {
    assert.strictEqual(Duration.toMillis(tickOf(rules)), 6000)
    assert.strictEqual(Duration.toMillis(tickOf({ ...rules, idle: Duration.seconds(10) })), 1000)
  })
})

describe("bodyLimits.bounded", () => {
  it.effect("passes a body of exactly the announced length", () =>
    Effect.gen(function*() {
      const out = yield* Stream.runCollect(bounded(10, 100)(Stream.make(bytes(4), bytes(6))))
      assert.strictEqual(out.length, 2)
    }))

  it.effect("fails with overflow before emitting the chunk holding the first extra byte", () =>
    Effect.gen(function*() {
      const emitted: Array<number> = []
      const chunks = [bytes(4), bytes(6), bytes(1), bytes(5)].map((b) => Chunk.of(b))
      const error = yield* bounded(10, 100)(Stream.fromChunks(...chunks)).pipe(
        Stream.runForEach((chunk) => Effect.sync(() => emitted.push(chunk.length))),
        Effect.flip
      )
      assert.deepStrictEqual(error, new BodyStopped("overflow"))
      assert.deepStrictEqual(emitted, [4, 6])
    }))

  it.effect("without an announced length, the limit bounds a body that never ends", () =>
    Effect.gen(function*() {
      const error = yield* bounded(undefined, 1000)(Stream.repeatValue(bytes(64))).pipe(Stream.runDrain, Effect.flip)
      assert.deepStrictEqual(error, new BodyStopped("overflow"))
    }))

  it.effect("a body that ends before its announced length is short", () =>
    Effect.gen(function*() {
      const error = yield* bounded(10, 100)(Stream.make(bytes(4))).pipe(Stream.runDrain, Effect.flip)
      assert.deepStrictEqual(error, new BodyStopped("short"))
    }))
})

describe("bodyLimits.withSpeedRules", () => {
  /** The body's bytes told to `tally` as they pass, as a transfer does. */
  const counted = (tally: (bytes: number) => void) => <E>(body: Stream.Stream<Uint8Array, E>) =>
    Stream.mapChunks(body, (chunk) => {
      tally(sizeOf(chunk))
      return chunk
    })

  it.effect("a body that stops sending is idle after idleTimeout", () =>
    Effect.gen(function*() {
      const body = Stream.concat(Stream.make(bytes(100_000)), Stream.never)
      const fiber = yield* withSpeedRules({ ...rules, lowSpeed: undefined }, (tally) =>
        Stream.runDrain(counted(tally)(body)))
        .pipe(Effect.flip, Effect.fork)
      yield* TestClock.adjust("59 seconds")
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust("7 seconds")
      assert.deepStrictEqual(yield* Fiber.join(fiber), new BodyStopped("idle"))
    }))

  it.effect("a trickle is slow once a window has passed under the limit", () =>
    Effect.gen(function*() {
      const body = Stream.repeatEffect(Effect.as(Effect.sleep("1 second"), bytes(10)))
      const fiber = yield* withSpeedRules(rules, (tally) => Stream.runDrain(counted(tally)(body))).pipe(
        Effect.flip,
        Effect.fork
      )
      yield* TestClock.adjust("50 seconds")
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust("20 seconds")
      assert.deepStrictEqual(yield* Fiber.join(fiber), new BodyStopped("slow"))
    }))

  it.effect("a body at speed ends normally, whatever its length in time", () =>
    Effect.gen(function*() {
      const body = Stream.repeatEffect(Effect.as(Effect.sleep("1 second"), bytes(2048))).pipe(Stream.take(130))
      const fiber = yield* withSpeedRules(rules, (tally) => Stream.runCount(counted(tally)(body))).pipe(Effect.fork)
      yield* TestClock.adjust("131 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), 130)
    }))
})
