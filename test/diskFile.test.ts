/**
 * `DiskFile.batches`: a file's bytes hashed and copied into two reused buffers, each written whole once
 * full. Checked against a handle that takes its bytes only when its write completes, a turn of the event
 * loop later: a buffer refilled before its write is done would show up as wrong bytes on "disk".
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Scope from "effect/Scope"
import { createHash } from "node:crypto"
import { setImmediate } from "node:timers/promises"
import * as DiskFile from "../src/internal/taskResults/diskFile.js"

/** A file whose writes land a turn later, copying the bytes then; it keeps every write as made. */
const slowFile = () => {
  const writes: Array<Uint8Array> = []
  return {
    writes,
    contents: () => Buffer.concat(writes),
    write: (bytes: Uint8Array) =>
      Effect.promise(async () => {
        await setImmediate()
        writes.push(Uint8Array.from(bytes))
      })
  }
}

const pieces = (sizes: ReadonlyArray<number>): Array<Uint8Array> => {
  let n = 0
  return sizes.map((size) => Uint8Array.from({ length: size }, () => n++ % 251))
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** Adds `chunks` (with `remaining` announced first, when given), flushes, and gives the file and digest. */
const run = (size: number, chunks: ReadonlyArray<Uint8Array>, remaining?: number) =>
  Effect.gen(function*() {
    const file = slowFile()
    const scope = yield* Scope.make()
    const disk = DiskFile.batches(file, scope, size)
    if (remaining !== undefined) disk.expect(remaining)
    for (const chunk of chunks) yield* disk.add(chunk)
    yield* disk.flush
    yield* Scope.close(scope, Exit.void)
    return { file, digest: yield* disk.digest }
  })

describe("DiskFile.batches", () => {
  it.effect.each(
    [
      ["chunks smaller than a buffer", 8, [3, 3, 3, 3, 3], undefined],
      ["chunks that fill buffers exactly", 8, [4, 4, 8, 8], undefined],
      ["one chunk larger than both buffers", 8, [20], undefined],
      ["empty chunks", 8, [0, 5, 0, 0, 6], undefined],
      ["a file smaller than a buffer, announced", 64, [5, 5], 10],
      ["nothing", 8, [], undefined]
    ] as const
  )("%s: the bytes in order, no write larger than a buffer", ([, size, sizes, remaining]) =>
    Effect.gen(function*() {
      const chunks = pieces(sizes)
      const all = Buffer.concat(chunks)
      const { digest, file } = yield* run(size, chunks, remaining)
      assert.deepStrictEqual(file.contents(), all)
      assert.strictEqual(digest, sha256(all))
      assert.isTrue(file.writes.every((write) => write.length > 0 && write.length <= size))
      // Full buffers are written as they fill: all writes but the last are whole buffers.
      const whole = remaining === undefined ? size : Math.min(size, remaining)
      assert.isTrue(file.writes.slice(0, -1).every((write) => write.length === whole))
    }))

  it.live.prop(
    "any chunks, any buffer size: the file is the bytes, in order",
    { size: fc.integer({ min: 1, max: 64 }), sizes: fc.array(fc.nat(200), { maxLength: 30 }) },
    ({ size, sizes }) =>
      Effect.gen(function*() {
        const chunks = pieces(sizes)
        const { digest, file } = yield* run(size, chunks)
        assert.deepStrictEqual(file.contents(), Buffer.concat(chunks))
        assert.strictEqual(digest, sha256(Buffer.concat(chunks)))
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect("discard drops what was not written and starts the hash over", () =>
    Effect.gen(function*() {
      const file = slowFile()
      const scope = yield* Scope.make()
      const disk = DiskFile.batches(file, scope, 8)
      const [first, second] = pieces([5, 6])
      yield* disk.add(first!)
      yield* disk.discard
      yield* disk.add(second!)
      yield* disk.flush
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(file.contents(), Buffer.from(second!))
      assert.strictEqual(yield* disk.digest, sha256(second!))
    }))
})
