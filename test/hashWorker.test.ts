import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { createHash } from "node:crypto"
import * as Hasher from "../src/internal/taskResults/hashWorker.js"

const sha256 = (...parts: ReadonlyArray<Uint8Array>) => {
  const hash = createHash("sha256")
  for (const part of parts) hash.update(part)
  return hash.digest("hex")
}

/** `n` bytes of a pattern that differs with `seed`, in a fresh shared buffer. */
const filled = (n: number, seed: number) => {
  const buffer = new SharedArrayBuffer(n)
  const bytes = new Uint8Array(buffer)
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed) & 0xff
  return { buffer, bytes }
}

describe("hashWorker", () => {
  it.live("hashes in a worker thread what createHash gives, for files hashed at the same time", () =>
    Effect.gen(function*() {
      const a = filled(3 * 65536 + 7, 1)
      const b = filled(65536, 2)
      const [digestA, digestB] = yield* Effect.scoped(Effect.gen(function*() {
        const ha = yield* Hasher.inWorker(a.buffer, "a.csv")
        const hb = yield* Hasher.inWorker(b.buffer, "b.csv")
        // Handed over in order, awaited later: the worker keeps each file's order.
        const waits = [
          yield* ha.update(a.bytes.subarray(0, 65536)),
          yield* hb.update(b.bytes),
          yield* ha.update(a.bytes.subarray(65536))
        ]
        yield* Effect.all(waits, { discard: true })
        return [yield* ha.digest, yield* hb.digest] as const
      }))
      assert.strictEqual(digestA, sha256(a.bytes))
      assert.strictEqual(digestB, sha256(b.bytes))
    }))

  it.live("a worker thread that dies fails the waits under way and the next ones with a SystemError", () =>
    Effect.gen(function*() {
      const a = filled(65536, 3)
      const exit = yield* Effect.scoped(Effect.gen(function*() {
        const hasher = yield* Hasher.inWorker(a.buffer, "a.csv")
        yield* Effect.flatten(hasher.update(a.bytes))
        yield* Hasher.terminate
        return yield* hasher.digest
      })).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual(error?._tag, "SystemError")
        assert.strictEqual(error?._tag === "SystemError" ? error.pathOrDescriptor : undefined, "a.csv")
      }
      // A later file starts a thread of its own.
      const digest = yield* Effect.scoped(Effect.gen(function*() {
        const hasher = yield* Hasher.inWorker(a.buffer, "a.csv")
        yield* Effect.flatten(hasher.update(a.bytes))
        return yield* hasher.digest
      }))
      assert.strictEqual(digest, sha256(a.bytes))
    }))

  it.live("the inline hasher gives the same digest", () =>
    Effect.gen(function*() {
      const a = filled(100_000, 4)
      const hasher = Hasher.inline()
      yield* Effect.flatten(hasher.update(a.bytes))
      assert.strictEqual(yield* hasher.digest, sha256(a.bytes))
    }))
})
