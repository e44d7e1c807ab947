/**
 * TaskResults against file hosts that misbehave: corrupt gzip, answers that never come, bodies that trickle or
 * never end, more bytes than announced, ranges without a validator, and links planted in the directory.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as Zlib from "node:zlib"
import type * as TaskResults from "../src/TaskResults.js"
import * as TextRevealError from "../src/TextRevealError.js"
import {
  after,
  bytesOf,
  drip,
  endless,
  fakeClient,
  fileHost,
  hold,
  httpWatchingBodies,
  latch,
  listing,
  listOf,
  memoryHost,
  read,
  requests,
  send,
  serve,
  sha256,
  tempDirs,
  withTaskResults
} from "./fixtures/fileHost.js"

const taskId = "f47ac10b-58cc-4372-a567-0e02b2c3d479"

const tempDir = tempDirs("taskresults-hostile-")

const isLink = (path: string) => fs.lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false

const isRegular = (path: string) => fs.lstatSync(path, { throwIfNoEntry: false })?.isFile() ?? false

/** A promise that never settles: a host holding an answer or a body forever. */
const never = new Promise<never>(() => {})

/**
 * The end of `fiber`, unless `more` comes first: a body, a request the transfer should never have made. Then
 * the test fails at once, saying `why`, instead of waiting on a clock nobody moves.
 */
const joinUnless = <A, E, B>(fiber: Fiber.Fiber<A, E>, more: Effect.Effect<B>, why: string) =>
  Effect.raceFirst(Fiber.join(fiber), Effect.flatMap(more, () => Effect.dieMessage(why)))

/** No timer can fire on its own in these: waits are driven by `TestClock`. */
const noSpeedRules: TaskResults.Options = { idleTimeout: "1 hour", lowSpeed: false }

/**
 * Events from the host or the client (callbacks outside any fiber), taken by the test one by one in order:
 * what the test waits on before it moves the clock.
 */
const signals = <A = void>() =>
  Effect.map(Queue.unbounded<A>(), (queue) => ({
    offer: (value: A) => {
      Queue.unsafeOffer(queue, value)
    },
    next: Queue.take(queue)
  }))

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"))

const csvText = ["id,text", ...Array.from({ length: 3000 }, (_, i) => `${i},row ${i} of ${(i * 7919) % 10007}`)]
  .join("\n") + "\n"
const csv = utf8(csvText)
const gz = new Uint8Array(Zlib.gzipSync(csv))

const assertDecompression = (error: unknown, fileName: string) => {
  assert.deepInclude(error, { _tag: "DownloadError", reason: "Decompression", fileName })
  assert.include((error as TaskResults.DownloadError).message, fileName)
}

describe("corrupt gzip", () => {
  const corrupt: ReadonlyArray<readonly [string, Uint8Array]> = [
    [
      "corrupt early in the deflate data",
      (() => {
        const bytes = Uint8Array.from(gz)
        // The first block header after the 10-byte gzip header: BTYPE 11, a block type that does not exist.
        bytes[10] = 0xff
        return bytes
      })()
    ],
    [
      "whose CRC alone is wrong",
      (() => {
        const bytes = Uint8Array.from(gz)
        bytes[bytes.length - 8]! ^= 0xff
        return bytes
      })()
    ],
    ["truncated", gz.subarray(0, gz.length - 4)]
  ]

  /** The bytes sent with `Content-Encoding: gzip` and a `Content-Length` that matches them. */
  const encoded = (bytes: Uint8Array) =>
    send(200, { "content-type": "text/csv", "content-encoding": "gzip", "content-length": bytes.length }, bytes)

  describe.each(corrupt)("gzip data %s", (_, bytes) => {
    it.live("rows: a body sent with Content-Encoding: gzip fails at once with a Decompression error", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({ files: { "c.csv": { body: bytes } }, plan: () => encoded(bytes) })
        const error = yield* withTaskResults(
          fakeClient({ host, listing: listOf("c.csv") }).client,
          (s) => Stream.runDrain(s.rows(taskId)).pipe(Effect.flip)
        )
        assertDecompression(error, "c.csv")
        assert.strictEqual(host.seen.length, 1)
      }).pipe(Effect.scoped))

    it.live("files: running the stream of a body sent with Content-Encoding: gzip fails with it", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({ files: { "c.csv": { body: bytes } }, plan: () => encoded(bytes) })
        const error = yield* withTaskResults(
          fakeClient({ host, listing: listOf("c.csv") }).client,
          (s) =>
            s.files(taskId).pipe(
              Effect.flatMap(([file]) => Stream.runDrain(file!.stream)),
              Effect.flip
            )
        )
        assertDecompression(error, "c.csv")
        assert.strictEqual(host.seen.length, 1)
      }).pipe(Effect.scoped))

    it.live("rows: a .csv.gz file (no Content-Encoding) fails with a Decompression error", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({ files: { "d.csv.gz": { body: bytes } } })
        const error = yield* withTaskResults(
          fakeClient({ host, listing: listOf("d.csv.gz") }).client,
          (s) => Stream.runDrain(s.rows(taskId)).pipe(Effect.flip)
        )
        assertDecompression(error, "d.csv.gz")
        assert.strictEqual(host.seen.length, 1)
      }).pipe(Effect.scoped))
  })
})

describe("answers that never come", () => {
  it.effect("no headers within `timeout`: with retry false, a Transport error saying so", () =>
    Effect.gen(function*() {
      const arrived = yield* signals()
      const host = yield* fileHost({
        files: { "a.csv": { body: bytesOf(1000) } },
        plan: () => {
          arrived.offer()
          return after(never, serve)
        }
      })
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory: tempDir() }).pipe(Effect.flip),
        { retry: false }
      ).pipe(Effect.fork)
      yield* arrived.next
      yield* TestClock.adjust("29 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "failed before the timeout")
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.deepInclude(error, { _tag: "DownloadError", reason: "Transport", fileName: "a.csv" })
      assert.include(error.message, "no headers within 30s")
      assert.strictEqual(host.seen.length, 1)
    }).pipe(Effect.scoped))

  it.effect("no headers within `timeout` is a transient failure: retried, then the file is fetched", () =>
    Effect.gen(function*() {
      const body = bytesOf(50_000)
      const arrived = yield* signals()
      const host = yield* fileHost({
        files: { "a.csv": { body, etag: "\"v1\"" } },
        plan: (_, n) => {
          arrived.offer()
          return n < 2 ? after(never, serve) : serve
        }
      })
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory: tempDir() }),
        { retry: { times: 2, base: "0 millis" }, timeout: "10 seconds" }
      ).pipe(Effect.fork)
      for (let i = 0; i < 2; i++) {
        yield* arrived.next
        yield* TestClock.adjust("10 seconds")
      }
      const [file] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(requests(host), [["1", undefined, null], ["1", undefined, null], ["1", 200, null]])
      assert.strictEqual(file!.sha256, sha256(body))
    }).pipe(Effect.scoped))
})

describe("bodies too slow", () => {
  it.effect("a few bytes, then nothing: a drop under the low-speed rule, resumed, never progress: TooManyResumes", () =>
    Effect.gen(function*() {
      const body = bytesOf(100_000)
      const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } }, plan: () => hold(100, never) })
      const received = yield* signals<TaskResults.Progress>()
      const directory = tempDir()
      // The defaults: idle 60 s, low speed 1024 bytes per second over 60 s.
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) =>
          s.download(taskId, { directory, onProgress: (progress) => Effect.sync(() => received.offer(progress)) })
            .pipe(Effect.flip),
        { maxResumes: 2 }
      ).pipe(Effect.fork)
      // Each body: its bytes are in, then one window of the low-speed rule.
      for (let i = 0; i < 3; i++) {
        yield* received.next
        yield* TestClock.adjust("60 seconds")
      }
      const error = yield* joinUnless(fiber, received.next, "a fourth body was read: the trickle counted as progress")
      assert.deepInclude(error, { _tag: "DownloadError", reason: "TooManyResumes", fileName: "a.csv" })
      assert.deepStrictEqual(requests(host), [["1", 200, null], ["1", 206, "bytes=100-"], ["1", 206, "bytes=200-"]])
      // (maxResumes + 1) windows, not one more.
      assert.strictEqual(yield* Clock.currentTimeMillis, 3 * 60_000)
      // The bytes had are kept for the next run: the entity has a strong ETag.
      assert.deepStrictEqual(listing(directory), [".a.csv.part", ".textreveal-manifest.json"])
      assert.deepStrictEqual(read(nodePath.join(directory, ".a.csv.part")), body.subarray(0, 300))
    }).pipe(Effect.scoped))

  it.effect("a few bytes every second: slower than bytesPerSecond over `over`, dropped, never progress", () =>
    Effect.gen(function*() {
      const body = bytesOf(100_000)
      const pumps = yield* signals<(bytes: number) => void>()
      const host = yield* fileHost({
        files: { "a.csv": { body, etag: "\"v1\"" } },
        plan: () => drip(pumps.offer)
      })
      const received = yield* signals<TaskResults.Progress>()
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) =>
          s.download(taskId, {
            directory: tempDir(),
            onProgress: (progress) => Effect.sync(() => received.offer(progress))
          }).pipe(Effect.flip),
        { maxResumes: 1, lowSpeed: { bytesPerSecond: 1024, over: "60 seconds" } }
      ).pipe(Effect.fork)
      for (let i = 0; i < 2; i++) {
        const pump = yield* pumps.next
        // 10 bytes a second for 60 seconds: never idle, far under 1024 bytes a second.
        for (let second = 0; second < 60; second++) {
          pump(10)
          yield* received.next
          yield* TestClock.adjust("1 second")
        }
      }
      const error = yield* joinUnless(fiber, pumps.next, "a third body was read: the trickle counted as progress")
      assert.deepInclude(error, { _tag: "DownloadError", reason: "TooManyResumes", fileName: "a.csv" })
      assert.deepStrictEqual(requests(host), [["1", 200, null], ["1", 206, "bytes=600-"]])
      assert.strictEqual(yield* Clock.currentTimeMillis, 2 * 60_000)
    }).pipe(Effect.scoped))

  it.effect("headers, then silence: each body dropped after one window; TooManyResumes after maxResumes", () =>
    Effect.gen(function*() {
      const bodies = yield* signals()
      const host = yield* fileHost({
        files: { "a.csv": { body: bytesOf(100_000), etag: "\"v1\"" } },
        plan: () => drip()
      })
      const directory = tempDir()
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory }).pipe(Effect.flip),
        { maxResumes: 2 },
        httpWatchingBodies(bodies.offer)
      ).pipe(Effect.fork)
      for (let i = 0; i < 3; i++) {
        yield* bodies.next
        yield* TestClock.adjust("60 seconds")
      }
      const error = yield* joinUnless(fiber, bodies.next, "a fourth body was read: silence counted as progress")
      assert.deepInclude(error, { _tag: "DownloadError", reason: "TooManyResumes", fileName: "a.csv" })
      assert.deepStrictEqual(requests(host), [["1", 200, null], ["1", 200, null], ["1", 200, null]])
      assert.strictEqual(yield* Clock.currentTimeMillis, 3 * 60_000)
      // No byte was had: nothing is left.
      assert.deepStrictEqual(listing(directory), [])
    }).pipe(Effect.scoped))
})

describe("deadline", () => {
  it.effect("download: a body held forever fails with DeadlineExceeded after the deadline; the bytes had are kept", () =>
    Effect.gen(function*() {
      const body = bytesOf(300_000)
      const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } }, plan: () => hold(100_000, never) })
      const received = yield* signals<TaskResults.Progress>()
      const directory = tempDir()
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) =>
          s.download(taskId, {
            directory,
            deadline: "10 seconds",
            onProgress: (progress) => Effect.sync(() => received.offer(progress))
          }).pipe(Effect.flip),
        noSpeedRules
      ).pipe(Effect.fork)
      const first = yield* received.next
      yield* TestClock.adjust("9 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "failed before the deadline")
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.deepInclude(error, { _tag: "DeadlineExceeded", taskId })
      assert.strictEqual(host.seen.length, 1)
      assert.deepStrictEqual(listing(directory), [".a.csv.part", ".textreveal-manifest.json"])
      const part = read(nodePath.join(directory, ".a.csv.part"))
      assert.isAtLeast(part.length, first.fileBytes)
      assert.isAbove(part.length, 0)
      assert.deepStrictEqual(part, body.subarray(0, part.length))
    }).pipe(Effect.scoped))

  it.effect("rows: a body held forever fails the stream with DeadlineExceeded after the deadline", () =>
    Effect.gen(function*() {
      const sent = latch()
      const host = yield* fileHost({
        files: { "a.csv": { body: utf8("a,b\n1,2\n3,4\n5,6\n"), etag: "\"v1\"" } },
        plan: () => hold(8, never, sent)
      })
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => Stream.runDrain(s.rows(taskId, { deadline: "10 seconds" })).pipe(Effect.flip),
        noSpeedRules
      ).pipe(Effect.fork)
      yield* sent.await
      yield* TestClock.adjust("9 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "failed before the deadline")
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.deepInclude(error, { _tag: "DeadlineExceeded", taskId })
      assert.strictEqual(host.seen.length, 1)
    }).pipe(Effect.scoped))
})

describe("bounds on size", () => {
  /** 1000 bytes announced, 1500 sent: in two chunks, the second past the announced length. */
  const overlong = memoryHost(() => {
    const bytes = bytesOf(1500)
    return new Response(
      new ReadableStream<Uint8Array>({
        start: (controller) => {
          controller.enqueue(bytes.subarray(0, 600))
          controller.enqueue(bytes.subarray(600))
          controller.close()
        }
      }),
      { status: 200, headers: { "content-type": "text/csv", "content-length": "1000", etag: "\"v1\"" } }
    )
  })

  it.live("download: more bytes than Content-Length is a SizeMismatch; no temporary file is left", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const error = yield* withTaskResults(
        fakeClient({ host: overlong.host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory }).pipe(Effect.flip),
        undefined,
        overlong.http
      )
      assert.deepInclude(error, { _tag: "DownloadError", reason: "SizeMismatch", fileName: "a.csv" })
      assert.include(error.message, "1000 bytes it announced")
      assert.notInclude(error.message, "no answer")
      // A file that can never be resumed leaves nothing behind.
      assert.deepStrictEqual(listing(directory), [])
    }))

  it.live("files: more bytes than Content-Length: no byte past the announced length is emitted", () =>
    Effect.gen(function*() {
      let emitted = 0
      const error = yield* withTaskResults(
        fakeClient({ host: overlong.host, listing: listOf("a.csv") }).client,
        (s) =>
          s.files(taskId).pipe(
            Effect.flatMap(([file]) =>
              Stream.runForEach(file!.stream, (bytes) =>
                Effect.sync(() => {
                  emitted += bytes.length
                }))
            ),
            Effect.flip
          ),
        undefined,
        overlong.http
      )
      assert.deepInclude(error, { _tag: "DownloadError", reason: "SizeMismatch", fileName: "a.csv" })
      assert.isAtMost(emitted, 1000)
    }))

  it.live("no Content-Length and a body that never ends: a SizeMismatch at maxFileBytes, the temporary file deleted", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({
        files: { "a.csv": { body: bytesOf(64 * 1024), etag: "\"v1\"" } },
        plan: () => endless
      })
      const directory = tempDir()
      const error = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory }).pipe(Effect.flip),
        { maxFileBytes: 1_000_000 }
      )
      assert.deepInclude(error, { _tag: "DownloadError", reason: "SizeMismatch", fileName: "a.csv" })
      assert.include(error.message, "maxFileBytes (1000000)")
      assert.notInclude(error.message, "no answer")
      assert.strictEqual(host.seen.length, 1)
      assert.deepStrictEqual(listing(directory), [])
    }).pipe(Effect.scoped))

  it.live("a Content-Length over maxFileBytes fails before the body", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: { "a.csv": { body: bytesOf(2_000_000), etag: "\"v1\"" } } })
      const directory = tempDir()
      const reports: Array<TaskResults.Progress> = []
      const error = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) =>
          s.download(taskId, { directory, onProgress: (progress) => Effect.sync(() => reports.push(progress)) })
            .pipe(Effect.flip),
        { maxFileBytes: 1_000_000 }
      )
      assert.deepInclude(error, { _tag: "DownloadError", reason: "SizeMismatch", fileName: "a.csv" })
      assert.include(error.message, "2000000")
      assert.include(error.message, "maxFileBytes (1000000)")
      assert.notInclude(error.message, "no answer")
      assert.deepStrictEqual(reports, [])
      assert.strictEqual(host.seen.length, 1)
      assert.deepStrictEqual(listing(directory), [])
    }).pipe(Effect.scoped))
})

describe("resuming without a validator", () => {
  /** Resolved by the first bytes the client reports: a cut after it comes after bytes were had. */
  const firstBytes = () => {
    const had = latch()
    return { had, onProgress: () => Effect.sync(() => had.resolve()) }
  }

  it.live("no ETag: a drop mid-body starts the file over without Range; the file ends intact", () =>
    Effect.gen(function*() {
      const body = bytesOf(300_000)
      const { had, onProgress } = firstBytes()
      const host = yield* fileHost({
        files: { "a.csv": { body } },
        plan: (_, n) => n === 0 ? hold(100_000, had.promise.then(() => "drop" as const)) : serve
      })
      const [file] = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory: tempDir(), onProgress })
      )
      assert.deepStrictEqual(requests(host), [["1", 200, null], ["1", 200, null]])
      assert.strictEqual(host.seen[1]!.headers["if-range"], undefined)
      assert.strictEqual(file!.sha256, sha256(body))
      assert.deepStrictEqual(read(file!.path), body)
    }).pipe(Effect.scoped))

  it.live("no ETag: the bytes had when the download is interrupted are not kept, as they could never be resumed", () =>
    Effect.gen(function*() {
      const { had, onProgress } = firstBytes()
      const host = yield* fileHost({ files: { "a.csv": { body: bytesOf(300_000) } }, plan: () => hold(100_000, never) })
      const directory = tempDir()
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory, onProgress })
      ).pipe(Effect.fork)
      yield* had.await
      yield* Fiber.interrupt(fiber)
      assert.notInclude(listing(directory), ".a.csv.part")
    }).pipe(Effect.scoped))

  it.live.each([["without an ETag", undefined], ["with another ETag", "\"v2\""]] as const)(
    "a resume answered 206 %s is never appended: the file starts over and ends intact",
    ([_, etag206]) =>
      Effect.gen(function*() {
        const size = 300_000
        const v1 = bytesOf(size, 1)
        const v2 = bytesOf(size, 2)
        const { had, onProgress } = firstBytes()
        const host = yield* fileHost({
          files: { "a.csv": { body: v1, etag: "\"v1\"" } },
          plan: (_, n, request) => {
            if (n === 0) return hold(100_000, had.promise.then(() => "drop" as const))
            if (n > 1) return serve
            // The file changed; the host continues the range with the new bytes, naming no entity (or another).
            host_.files.set("a.csv", { body: v2, etag: "\"v2\"" })
            const from = Number(/^bytes=(\d+)-$/.exec(String(request.headers["range"]))?.[1] ?? 0)
            return send(206, {
              "content-type": "text/csv",
              "content-length": size - from,
              "content-range": `bytes ${from}-${size - 1}/${size}`,
              ...(etag206 === undefined ? {} : { etag: etag206 })
            }, v2.subarray(from))
          }
        })
        const host_ = host
        const [file] = yield* withTaskResults(
          fakeClient({ host, listing: listOf("a.csv") }).client,
          (s) => s.download(taskId, { directory: tempDir(), onProgress })
        )
        const [first, resumed, again, ...more] = requests(host)
        assert.deepStrictEqual([first, again, more], [["1", 200, null], ["1", 200, null], []])
        assert.strictEqual(resumed?.[1], 206)
        assert.match(String(resumed?.[2]), /^bytes=[1-9]\d*-$/)
        assert.strictEqual(file!.sha256, sha256(v2))
        assert.deepStrictEqual(read(file!.path), v2)
      }).pipe(Effect.scoped)
  )

  it.live("a 206 for the whole file to a plain GET is the whole file, also when starting over", () =>
    Effect.gen(function*() {
      const body = bytesOf(300_000)
      const { had, onProgress } = firstBytes()
      const whole = (cut?: { readonly after: number; readonly when: Promise<unknown> }) =>
        send(
          206,
          {
            "content-type": "text/csv",
            "content-length": body.length,
            "content-range": `bytes 0-${body.length - 1}/${body.length}`
          },
          body,
          cut
        )
      const host = yield* fileHost({
        files: { "a.csv": { body } },
        // Without a validator, the bytes had after the cut can only be fetched again from the first byte.
        plan: (_, n) => n === 0 ? whole({ after: 100_000, when: had.promise }) : whole()
      })
      const [file] = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory: tempDir(), onProgress })
      )
      assert.deepStrictEqual(requests(host), [["1", 206, null], ["1", 206, null]])
      assert.strictEqual(file!.sha256, sha256(body))
      assert.deepStrictEqual(read(file!.path), body)
    }).pipe(Effect.scoped))
})

describe("smaller slips", () => {
  it.live("a body sent with Content-Encoding: gzip is stored decoded under its name", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({
        files: { "c.csv": { body: gz } },
        plan: () =>
          send(200, {
            "content-type": "text/csv",
            "content-encoding": "gzip",
            "content-length": gz.length,
            etag: "\"g1\""
          }, gz)
      })
      const directory = tempDir()
      const [file] = yield* withTaskResults(
        fakeClient({ host, listing: listOf("c.csv") }).client,
        (s) => s.download(taskId, { directory })
      )
      assert.deepStrictEqual(file, {
        fileName: "c.csv",
        path: nodePath.join(directory, "c.csv"),
        bytes: csv.length,
        sha256: sha256(csv),
        skipped: false
      })
      assert.deepStrictEqual(read(file!.path), csv)
      assert.strictEqual(host.seen.length, 1)
    }).pipe(Effect.scoped))

  it.live.each([["a directory it created leaves no directory", true], [
    "a directory that existed is left empty",
    false
  ]])(
    "a failed download: %s, and no temporary file",
    ([_, create]) =>
      Effect.gen(function*() {
        const host = yield* fileHost({ files: {} })
        const base = tempDir()
        const directory = create ? nodePath.join(base, "out") : base
        const error = yield* withTaskResults(
          fakeClient({ host, listing: listOf("a.csv") }).client,
          (s) => s.download(taskId, { directory }).pipe(Effect.flip)
        )
        assert.deepInclude(error, { _tag: "DownloadError", reason: "Status", status: 404, fileName: "a.csv" })
        assert.deepStrictEqual(listing(base), [])
      }).pipe(Effect.scoped)
  )

  it.live("a task whose URLs cannot be had (the API refuses): the directory it created is removed", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: {} })
      const base = tempDir()
      const notFound = new TextRevealError.NotFound({ status: 404, message: "No such task.", reason: "not_found" })
      const error = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv"), failure: () => notFound }).client,
        (s) => s.download(taskId, { directory: nodePath.join(base, taskId) }).pipe(Effect.flip)
      )
      assert.deepInclude(error, { _tag: "NotFound", status: 404 })
      assert.deepStrictEqual(listing(base), [])
      assert.strictEqual(host.seen.length, 0)
    }).pipe(Effect.scoped))

  it.effect("onProgress reports a file's completion once", () =>
    Effect.gen(function*() {
      const body = bytesOf(100)
      const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } } })
      const reports: Array<TaskResults.Progress> = []
      yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) =>
          s.download(taskId, {
            directory: tempDir(),
            onProgress: (progress) => Effect.sync(() => reports.push(progress))
          })
      )
      const complete = reports.filter((report) => report.fileBytes === report.fileSize)
      assert.deepStrictEqual(complete, [{
        fileName: "a.csv",
        fileBytes: 100,
        fileSize: 100,
        totalBytes: 100,
        totalSize: 100
      }])
      assert.strictEqual(reports[reports.length - 1], complete[0])
    }).pipe(Effect.scoped))
})

describe("links planted in the directory", () => {
  const manifestOf = (entry: Record<string, unknown>) => JSON.stringify({ version: 1, files: [entry] })

  it.live("a link at the temporary name: the file it points to is neither truncated nor written", () =>
    Effect.gen(function*() {
      const body = bytesOf(50_000)
      const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } } })
      const directory = tempDir()
      const victim = nodePath.join(tempDir(), "victim")
      const known = bytesOf(5000, 7)
      fs.writeFileSync(victim, known)
      fs.symlinkSync(victim, nodePath.join(directory, ".a.csv.part"))
      const [file] = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory })
      )
      assert.deepStrictEqual(read(victim), known)
      assert.isTrue(isRegular(file!.path))
      assert.deepStrictEqual(read(file!.path), body)
      assert.deepStrictEqual(listing(directory), [".textreveal-manifest.json", "a.csv"])
    }).pipe(Effect.scoped))

  it.live("a link at the final name, listed complete: not skipped, replaced by a regular file, its target untouched", () =>
    Effect.gen(function*() {
      const body = bytesOf(50_000)
      const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } } })
      const directory = tempDir()
      const victim = nodePath.join(tempDir(), "victim")
      const known = bytesOf(body.length, 7)
      fs.writeFileSync(victim, known)
      fs.symlinkSync(victim, nodePath.join(directory, "a.csv"))
      fs.writeFileSync(
        nodePath.join(directory, ".textreveal-manifest.json"),
        manifestOf({ name: "a.csv", source: "a.csv", state: "complete", bytes: body.length, sha256: sha256(known) })
      )
      const [file] = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory })
      )
      assert.isFalse(file!.skipped)
      assert.strictEqual(file!.sha256, sha256(body))
      assert.strictEqual(host.seen.length, 1)
      assert.isTrue(isRegular(file!.path))
      assert.deepStrictEqual(read(file!.path), body)
      assert.deepStrictEqual(read(victim), known)
    }).pipe(Effect.scoped))

  it.live.each([".textreveal-manifest.json", ".textreveal-manifest.journal", ".textreveal-manifest.json.tmp"])(
    "a link at %s: nothing outside the directory is read or written",
    (name) =>
      Effect.gen(function*() {
        const body = bytesOf(50_000)
        const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } } })
        const directory = tempDir()
        // A file of the right size but the wrong bytes: read through the link, the outside file would have it
        // skipped.
        const planted = new Uint8Array(body.length)
        fs.writeFileSync(nodePath.join(directory, "a.csv"), planted)
        const entry = { name: "a.csv", source: "a.csv", state: "complete", bytes: body.length, sha256: sha256(planted) }
        const outside = nodePath.join(tempDir(), "outside")
        const content = name.endsWith(".journal") ? `${JSON.stringify(entry)}\n` : manifestOf(entry)
        fs.writeFileSync(outside, content)
        fs.symlinkSync(outside, nodePath.join(directory, name))
        const [file] = yield* withTaskResults(
          fakeClient({ host, listing: listOf("a.csv") }).client,
          (s) => s.download(taskId, { directory })
        )
        assert.isFalse(file!.skipped)
        assert.deepStrictEqual(read(file!.path), body)
        assert.strictEqual(fs.readFileSync(outside, "utf8"), content)
        assert.isFalse(isLink(nodePath.join(directory, name)))
      }).pipe(Effect.scoped)
  )

  it.live("a resume whose temporary file is a link: the link is removed and the file starts over", () =>
    Effect.gen(function*() {
      const body = bytesOf(50_000)
      const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } } })
      const directory = tempDir()
      const victim = nodePath.join(tempDir(), "victim")
      const known = body.subarray(0, 20_000)
      fs.writeFileSync(victim, known)
      fs.symlinkSync(victim, nodePath.join(directory, ".a.csv.part"))
      fs.writeFileSync(
        nodePath.join(directory, ".textreveal-manifest.json"),
        manifestOf({ name: "a.csv", source: "a.csv", state: "partial", etag: "\"v1\"", size: body.length })
      )
      const [file] = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.download(taskId, { directory })
      )
      assert.deepStrictEqual(requests(host), [["1", 200, null]])
      assert.isTrue(isRegular(file!.path))
      assert.deepStrictEqual(read(file!.path), body)
      assert.deepStrictEqual(read(victim), known)
      assert.deepStrictEqual(listing(directory), [".textreveal-manifest.json", "a.csv"])
    }).pipe(Effect.scoped))
})
