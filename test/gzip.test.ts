import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import type * as ZlibTypes from "node:zlib"
import * as Zlib from "node:zlib"
import { beforeEach, vi } from "vitest"
import { gunzip, maybeGunzip, pieceSize } from "../src/internal/taskResults/gzip.js"
import { DownloadError } from "../src/TaskResultsError.js"

/**
 * Every `Gunzip` the module opens, with the bytes zlib has pushed out of it so far: what was inflated, read or
 * not.
 */
const opened = vi.hoisted(() => [] as Array<{ readonly zlib: ZlibTypes.Gunzip; pushed: number }>)

vi.mock("node:zlib", async (importOriginal) => {
  const actual = await importOriginal<typeof ZlibTypes>()
  return {
    ...actual,
    createGunzip: (options?: ZlibTypes.ZlibOptions) => {
      const zlib = actual.createGunzip(options)
      const entry = { zlib, pushed: 0 }
      const push = zlib.push.bind(zlib)
      zlib.push = (chunk: unknown, encoding?: BufferEncoding) => {
        if (chunk instanceof Uint8Array) entry.pushed += chunk.length
        return push(chunk, encoding)
      }
      opened.push(entry)
      return zlib
    }
  }
})

beforeEach(() => {
  opened.length = 0
})

const fileName = "export-1.csv.gz"
const MiB = 1024 * 1024

const text = Array.from({ length: 300 }, (_, i) => `${i},"row ${i}, quoted",${(i * 7919) % 10007}\n`).join("")
const csv = Buffer.from(`id,title,n\n${text}`)
const gz = Zlib.gzipSync(csv)

const concat = (chunks: Chunk.Chunk<Uint8Array>) => Buffer.concat(Chunk.toArray(chunks))

/** `bytes` cut at `cuts` (offsets, in order): the chunks a body could arrive in. */
const cutAt = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(from, cut))
    from = cut
  }
  return chunks
}
const byteByByte = (bytes: Uint8Array) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))

/** Ways to split a gzip body: one chunk, byte by byte, the header and the trailer split, empty chunks. */
const splits = (bytes: Uint8Array): Record<string, Array<Uint8Array>> => ({
  "one chunk": [bytes],
  "byte by byte": byteByByte(bytes),
  "after the first byte": cutAt(bytes, [1]),
  "inside the header": cutAt(bytes, [1, 2, 3, 9]),
  "after the header": cutAt(bytes, [10]),
  "inside the trailer": cutAt(bytes, [bytes.length - 8, bytes.length - 5, bytes.length - 1]),
  "with empty chunks": cutAt(bytes, [0, 0, 1, 1, 2, 500, 500])
})

const run = (stream: Stream.Stream<Uint8Array, DownloadError>) => Effect.map(Stream.runCollect(stream), concat)

/**
 * The effect, failed with a defect when it has not settled after 5 s of real time: a decoder that misses
 * zlib's `error` event waits forever, and this names it rather than a test runner's time-out.
 */
const settles = <A, E>(self: Effect.Effect<A, E>) =>
  Effect.timeoutFailCause(self, { duration: "5 seconds", onTimeout: () => Cause.die("did not settle within 5 s") })

const assertDecompression = (error: unknown) => {
  assert.instanceOf(error, DownloadError)
  assert.strictEqual(error.reason, "Decompression")
  assert.strictEqual(error.fileName, fileName)
  assert.include(error.message, fileName)
}

describe("maybeGunzip", () => {
  it.effect("gunzips gzip data however it is cut into chunks (gunzip too)", () =>
    Effect.gen(function*() {
      for (const [name, chunks] of Object.entries(splits(gz))) {
        for (const decode of [maybeGunzip(fileName), gunzip(fileName)]) {
          const out = yield* run(Stream.fromIterable(chunks).pipe(decode))
          assert.isTrue(out.equals(csv), name)
        }
      }
    }))

  it.effect("passes other bytes through unchanged, however they are cut (a first byte 1f included)", () =>
    Effect.gen(function*() {
      const controlFirst = Buffer.from("\x1fa,b\n1,2\n")
      for (const bytes of [csv, controlFirst, Buffer.from("a"), Buffer.from([0x8b, 0x1f])]) {
        for (const [name, chunks] of Object.entries(splits(bytes))) {
          const out = yield* run(Stream.fromIterable(chunks).pipe(maybeGunzip(fileName)))
          assert.isTrue(out.equals(bytes), name)
        }
      }
      assert.strictEqual(opened.length, 0)
    }))

  it.effect("an empty body passes through empty", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* run(Stream.empty.pipe(maybeGunzip(fileName)))).length, 0)
      assert.strictEqual((yield* run(Stream.make(new Uint8Array(0)).pipe(maybeGunzip(fileName)))).length, 0)
    }))

  it.effect("reads gzip members one after the other as one (RFC 1952)", () =>
    Effect.gen(function*() {
      const two = Buffer.concat([gz, Zlib.gzipSync("more\n"), Zlib.gzipSync("")])
      for (const [name, chunks] of Object.entries(splits(two))) {
        const out = yield* run(Stream.fromIterable(chunks).pipe(maybeGunzip(fileName)))
        assert.strictEqual(out.toString(), `${csv}more\n`, name)
      }
    }))

  it.effect("an error of the byte stream itself goes through as it is, and the decoder is released", () =>
    Effect.gen(function*() {
      class Cut {
        readonly _tag = "Cut"
      }
      const error = yield* Stream.fromIterable(cutAt(gz, [100])).pipe(
        Stream.concat(Stream.fail(new Cut())),
        maybeGunzip(fileName),
        Stream.runDrain,
        Effect.flip
      )
      assert.instanceOf(error, Cut)
      assert.strictEqual(opened.length, 1)
      assert.isTrue(opened[0]!.zlib.destroyed)
    }))
})

describe("corrupt gzip fails at once with a Decompression error naming the file", () => {
  const corrupt = (mutate: (bytes: Buffer) => void) => {
    const bytes = Buffer.from(gz)
    mutate(bytes)
    return bytes
  }
  const cases: Record<string, Uint8Array> = {
    "deflate data corrupt early": corrupt((b) => {
      for (let i = 10; i < 20; i++) b[i]! ^= 0x55
    }),
    "only the CRC wrong": corrupt((b) => {
      b[b.length - 6]! ^= 0xff
    }),
    "only the length wrong": corrupt((b) => {
      b[b.length - 2]! ^= 0xff
    }),
    "truncated in the deflate data": gz.subarray(0, gz.length >> 1),
    "truncated in the trailer": gz.subarray(0, gz.length - 3),
    "only the header": gz.subarray(0, 10),
    "the two bytes 1f 8b": gz.subarray(0, 2),
    "the single byte 1f": gz.subarray(0, 1),
    "trailing text": Buffer.concat([gz, Buffer.from("garbage\n")]),
    "trailing zero bytes": Buffer.concat([gz, Buffer.alloc(16)]),
    "a trailing second header cut short": Buffer.concat([gz, gz.subarray(0, 5)]),
    "a second member corrupt": Buffer.concat([gz, Buffer.from([0x1f, 0x8b, 0xff, 0xff, 0, 0, 0, 0, 0, 0])])
  }

  for (const [name, bytes] of Object.entries(cases)) {
    it.live(name, () =>
      Effect.gen(function*() {
        const cuts = { "one chunk": [bytes], "byte by byte": byteByByte(bytes), "in two": cutAt(bytes, [1]) }
        for (const [cut, chunks] of Object.entries(cuts)) {
          for (const decode of [maybeGunzip(fileName), gunzip(fileName)]) {
            opened.length = 0
            const error = yield* settles(Stream.fromIterable(chunks).pipe(decode, Stream.runDrain, Effect.flip))
            assertDecompression(error)
            // The message is zlib's fixed words, never the data.
            assert.notInclude(error.message, "garbage", cut)
            assert.notInclude(error.message, "row ", cut)
            assert.isTrue(opened.every((entry) => entry.zlib.destroyed), cut)
          }
        }
      }))
  }

  it.live("an empty body is not gzip data (gunzip)", () =>
    Effect.gen(function*() {
      const error = yield* settles(Stream.empty.pipe(gunzip(fileName), Stream.runDrain, Effect.flip))
      assertDecompression(error)
      assert.include(error.message, "empty")
    }))

  it.live("the message tells truncated from corrupt, and bytes after the end", () =>
    Effect.gen(function*() {
      const failure = (bytes: Uint8Array) =>
        settles(Stream.make(bytes).pipe(gunzip(fileName), Stream.runDrain, Effect.flip)).pipe(
          Effect.map((error) => error.message)
        )
      assert.match(yield* failure(cases["truncated in the trailer"]!), /truncated/)
      assert.match(yield* failure(cases["only the CRC wrong"]!), /corrupt.*incorrect data check/)
      assert.match(yield* failure(cases["trailing zero bytes"]!), /16 bytes follow the end of the gzip data/)
    }))
})

/** `mib` MiB of "1\n" as one gzip member, built by streaming (no buffer of the whole size) and kept. */
const bombs = new Map<number, Buffer>()
const bomb = (mib: number) =>
  Effect.suspend(() => {
    const known = bombs.get(mib)
    if (known !== undefined) return Effect.succeed(known)
    const line = Buffer.alloc(MiB, "1\n")
    const gzip = Zlib.createGzip({ level: 9 })
    const parts: Array<Buffer> = []
    gzip.on("data", (data: Buffer) => parts.push(data))
    return Effect.gen(function*() {
      for (let i = 0; i < mib; i++) {
        yield* Effect.async<void>((resume) => {
          gzip.write(line, () => resume(Effect.void))
        })
      }
      yield* Effect.async<void>((resume) => {
        gzip.on("end", () => resume(Effect.void))
        gzip.end()
      })
      const member = Buffer.concat(parts)
      bombs.set(mib, member)
      return member
    })
  })

describe("decompression is pulled: output in bounded pieces, input only when the output before is taken", () => {
  it.effect("a bomb of 200 MiB in one chunk comes out in pieces of at most pieceSize, zlib never far ahead", () =>
    Effect.gen(function*() {
      const bytes = yield* bomb(200)
      assert.isBelow(bytes.length, 400_000)
      let total = 0
      let largest = 0
      let ahead = 0
      yield* Stream.make(bytes).pipe(
        maybeGunzip(fileName),
        Stream.runForEach((piece) =>
          Effect.sync(() => {
            total += piece.length
            largest = Math.max(largest, piece.length)
            // Inflated by zlib but not yet handed on: what the decoder holds in memory.
            ahead = Math.max(ahead, opened[0]!.pushed - total)
          })
        )
      )
      assert.strictEqual(total, 200 * MiB)
      assert.isAtMost(largest, pieceSize)
      assert.isAtMost(ahead, 2 * pieceSize)
    }))

  it.effect("taking the first pieces of a bomb in one chunk stops zlib after them", () =>
    Effect.gen(function*() {
      const bytes = yield* bomb(200)
      const first = yield* Stream.make(bytes).pipe(maybeGunzip(fileName), Stream.take(3), Stream.runCollect)
      assert.strictEqual(Chunk.size(first), 3)
      const { pushed, zlib } = opened[0]!
      assert.isAtMost(pushed, 5 * pieceSize)
      assert.isBelow(zlib.bytesWritten, bytes.length / 10)
      assert.isTrue(zlib.destroyed)
    }))

  it.effect("the next chunk of input is pulled only once the output of the one before is taken", () =>
    Effect.gen(function*() {
      const bytes = yield* bomb(16)
      let pulled = 0
      function* pieces() {
        for (let at = 0; at < bytes.length; at += 1024) {
          pulled++
          yield bytes.subarray(at, at + 1024)
        }
      }
      const source = Stream.fromIteratorSucceed(pieces(), 1)
      // 1 KiB of this gzip inflates to about 1 MiB: many pieces.
      yield* source.pipe(gunzip(fileName), Stream.take(4), Stream.runDrain)
      assert.strictEqual(pulled, 1)
    }))
})

describe("the decoder is released", () => {
  it.effect("when the stream ends", () =>
    Effect.gen(function*() {
      yield* run(Stream.make(gz).pipe(maybeGunzip(fileName)))
      assert.strictEqual(opened.length, 1)
      assert.isTrue(opened[0]!.zlib.destroyed)
    }))

  it.effect("when the fiber reading it is interrupted while it waits for input", () =>
    Effect.gen(function*() {
      const got = yield* Deferred.make<void>()
      const fiber = yield* Stream.make(gz.subarray(0, gz.length >> 1)).pipe(
        Stream.concat(Stream.never),
        maybeGunzip(fileName),
        Stream.runForEach(() => Deferred.succeed(got, undefined)),
        Effect.fork
      )
      yield* Deferred.await(got)
      assert.isFalse(opened[0]!.zlib.destroyed)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(opened[0]!.zlib.destroyed)
    }))

  it.effect("when the fiber reading it is interrupted with output waiting to be read", () =>
    Effect.gen(function*() {
      const bytes = yield* bomb(200)
      const got = yield* Deferred.make<void>()
      const fiber = yield* Stream.make(bytes).pipe(
        maybeGunzip(fileName),
        Stream.runForEach(() => Effect.zipRight(Deferred.succeed(got, undefined), Effect.never)),
        Effect.fork
      )
      yield* Deferred.await(got)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(opened[0]!.zlib.destroyed)
    }))
})
