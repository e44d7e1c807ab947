import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as Zlib from "node:zlib"
import { DownloadUrl } from "../src/DownloadUrl.js"
import * as TaskResults from "../src/TaskResults.js"
import * as TextRevealError from "../src/TextRevealError.js"
import {
  after,
  bytesOf,
  dropAfter,
  expiredXml,
  fakeClient,
  fileHost,
  hold,
  ignoreRange,
  latch,
  listing,
  listOf,
  read,
  requests,
  serve,
  sha256,
  signatureSecret,
  status,
  tempDirs,
  withTaskResults
} from "./fixtures/fileHost.js"

const taskId = "f47ac10b-58cc-4372-a567-0e02b2c3d479"

const tempDir = tempDirs("taskresults-")

/** No timer can fire on its own in these: waits are driven by `TestClock`. */
const noIdle: TaskResults.Options = { idleTimeout: "1 hour", lowSpeed: false }

describe("TaskResults.download", () => {
  it.live("streams each file to disk with its sha256; plain GETs with no token, trace headers nor compression", () =>
    Effect.gen(function*() {
      const a = bytesOf(2_500_000, 1)
      const b = bytesOf(10, 2)
      const host = yield* fileHost({ files: { "a.csv": { body: a, etag: "\"a1\"" }, "b.csv": { body: b } } })
      const fake = fakeClient({ host, listing: listOf("a.csv", "b.csv") })
      const directory = tempDir()
      const files = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory })).pipe(
        Effect.withSpan("caller")
      )
      assert.deepStrictEqual(files, [
        {
          fileName: "a.csv",
          path: nodePath.join(directory, "a.csv"),
          bytes: a.length,
          sha256: sha256(a),
          skipped: false
        },
        {
          fileName: "b.csv",
          path: nodePath.join(directory, "b.csv"),
          bytes: b.length,
          sha256: sha256(b),
          skipped: false
        }
      ])
      assert.deepStrictEqual(read(files[0]!.path), a)
      assert.deepStrictEqual(listing(directory), [".textreveal-manifest.json", "a.csv", "b.csv"])
      for (const seen of host.seen) {
        assert.strictEqual(seen.headers["authorization"], undefined)
        assert.strictEqual(seen.headers["traceparent"], undefined)
        assert.strictEqual(seen.headers["b3"], undefined)
        assert.strictEqual(seen.headers["accept-encoding"], "identity")
      }
      assert.strictEqual(fake.downloadCalls.length, 1)
    }).pipe(Effect.scoped))

  it.live("creates the directory when missing", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: { "a.csv": { body: bytesOf(100) } } })
      const directory = nodePath.join(tempDir(), "x", "y")
      yield* withTaskResults(fakeClient({ host, listing: listOf("a.csv") }).client, (s) =>
        s.download(taskId, { directory }))
      assert.isTrue(fs.existsSync(nodePath.join(directory, "a.csv")))
    }).pipe(Effect.scoped))

  describe("resume", () => {
    it.live("a drop mid-body is resumed with Range and If-Range; the sha256 is the source's", () =>
      Effect.gen(function*() {
        const body = bytesOf(3_000_000)
        const host = yield* fileHost({
          files: { "a.csv": { body, etag: "\"v1\"" } },
          plan: (_, n) => n === 0 ? dropAfter(1_000_000) : n === 1 ? dropAfter(500_000) : serve
        })
        const [file] = yield* withTaskResults(
          fakeClient({ host, listing: listOf("a.csv") }).client,
          (s) => s.download(taskId, { directory: tempDir() })
        )
        assert.strictEqual(file!.sha256, sha256(body))
        assert.deepStrictEqual(read(file!.path), body)
        assert.deepStrictEqual(requests(host), [
          ["1", 200, null],
          ["1", 206, "bytes=1000000-"],
          ["1", 206, "bytes=1500000-"]
        ])
        assert.deepStrictEqual(host.seen.slice(1).map((seen) => seen.headers["if-range"]), ["\"v1\"", "\"v1\""])
      }).pipe(Effect.scoped))

    it.live("a host that ignores Range starts the file over", () =>
      Effect.gen(function*() {
        const body = bytesOf(2_000_000)
        const host = yield* fileHost({
          files: { "a.csv": { body, etag: "\"v1\"" } },
          plan: (_, n) => n === 0 ? dropAfter(700_000) : ignoreRange
        })
        const [file] = yield* withTaskResults(fakeClient({ host, listing: listOf("a.csv") }).client, (s) =>
          s.download(taskId, { directory: tempDir() }))
        assert.deepStrictEqual(requests(host), [["1", 200, null], ["1", 200, "bytes=700000-"]])
        assert.strictEqual(file!.bytes, body.length)
        assert.strictEqual(file!.sha256, sha256(body))
      }).pipe(Effect.scoped))

    it.live("an ETag change between requests starts the file over with the new entity", () =>
      Effect.gen(function*() {
        const v1 = bytesOf(1_500_000, 1)
        const v2 = bytesOf(1_200_000, 2)
        const host = yield* fileHost({
          files: { "a.csv": { body: v1, etag: "\"v1\"" } },
          plan: (_, n) => {
            if (n === 0) return dropAfter(600_000)
            host_.files.set("a.csv", { body: v2, etag: "\"v2\"" })
            return serve
          }
        })
        const host_ = host
        const directory = tempDir()
        const [file] = yield* withTaskResults(fakeClient({ host, listing: listOf("a.csv") }).client, (s) =>
          s.download(taskId, { directory }))
        assert.deepStrictEqual(requests(host), [["1", 200, null], ["1", 200, "bytes=600000-"]])
        assert.strictEqual(host.seen[1]!.headers["if-range"], "\"v1\"")
        assert.strictEqual(file!.sha256, sha256(v2))
        assert.deepStrictEqual(read(file!.path), v2)
        const manifest = JSON.parse(fs.readFileSync(nodePath.join(directory, ".textreveal-manifest.json"), "utf8"))
        assert.strictEqual(manifest.files[0].etag, "\"v2\"")
      }).pipe(Effect.scoped))

    it.live("only drops without progress count: past maxResumes, TooManyResumes and nothing under the final name", () =>
      Effect.gen(function*() {
        const body = bytesOf(100_000)
        const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } }, plan: () => dropAfter(0) })
        const directory = tempDir()
        const error = yield* withTaskResults(
          fakeClient({ host, listing: listOf("a.csv") }).client,
          (s) => s.download(taskId, { directory }).pipe(Effect.flip),
          { maxResumes: 3, retry: false }
        )
        assert.deepInclude(error, { _tag: "DownloadError", reason: "TooManyResumes", fileName: "a.csv" })
        assert.strictEqual(host.seen.length, 1 + 3) // the first request, then 3 resumes
        // No byte was had: nothing is left, not even an empty temporary file or a manifest.
        assert.deepStrictEqual(listing(directory), [])

        // Four drops, each after new bytes: none counts.
        const progressing = yield* fileHost({
          files: { "a.csv": { body, etag: "\"v1\"" } },
          plan: (_, n) => n < 4 ? dropAfter(20_000) : serve
        })
        const [file] = yield* withTaskResults(
          fakeClient({ host: progressing, listing: listOf("a.csv") }).client,
          (s) => s.download(taskId, { directory: tempDir() }),
          { maxResumes: 1, retry: false }
        )
        assert.strictEqual(progressing.seen.length, 5)
        assert.strictEqual(file!.sha256, sha256(body))
      }).pipe(Effect.scoped))

    it.live("an interrupted download is finished by the next run, from the bytes on disk", () =>
      Effect.gen(function*() {
        const body = bytesOf(600_000)
        const release = latch<"drop" | "finish">()
        const host = yield* fileHost({
          files: { "a.csv": { body, etag: "\"v1\"" } },
          plan: (_, n) => n === 0 ? hold(200_000, release.promise) : serve
        })
        const fake = fakeClient({ host, listing: listOf("a.csv") })
        const directory = tempDir()
        const progressed = latch()
        const first = yield* withTaskResults(fake.client, (s) =>
          s.download(taskId, {
            directory,
            onProgress: () => Effect.sync(() => progressed.resolve())
          })).pipe(Effect.fork)
        yield* progressed.await
        yield* Fiber.interrupt(first)
        release.resolve("drop")
        assert.deepStrictEqual(listing(directory), [".a.csv.part", ".textreveal-manifest.json"])
        const had = fs.statSync(nodePath.join(directory, ".a.csv.part")).size
        assert.isAbove(had, 0)

        const [file] = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory }))
        assert.deepStrictEqual(requests(host), [["1", 200, null], ["2", 206, `bytes=${had}-`]])
        assert.strictEqual(host.seen[1]!.headers["if-range"], "\"v1\"")
        assert.strictEqual(file!.sha256, sha256(body))
        assert.isFalse(file!.skipped)
        assert.deepStrictEqual(listing(directory), [".textreveal-manifest.json", "a.csv"])
      }).pipe(Effect.scoped))

    it.live("a temporary file already complete (the process died before the rename) is only renamed", () =>
      Effect.gen(function*() {
        const body = bytesOf(50_000)
        const host = yield* fileHost({ files: { "a.csv": { body, etag: "\"v1\"" } } })
        const fake = fakeClient({ host, listing: listOf("a.csv") })
        const directory = tempDir()
        const [first] = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory }))
        // As if the last run had died between the last byte and the rename.
        fs.renameSync(first!.path, nodePath.join(directory, ".a.csv.part"))
        const manifestPath = nodePath.join(directory, ".textreveal-manifest.json")
        const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"))
        manifest.files[0] = { name: "a.csv", source: "a.csv", state: "partial", etag: "\"v1\"", size: body.length }
        fs.writeFileSync(manifestPath, JSON.stringify(manifest))

        const [file] = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory }))
        assert.deepStrictEqual(requests(host)[1], ["2", 416, `bytes=${body.length}-`])
        assert.deepStrictEqual(file, first)
        assert.deepStrictEqual(listing(directory), [".textreveal-manifest.json", "a.csv"])
      }).pipe(Effect.scoped))

    it.effect("a body that stalls for idleTimeout counts as dropped and is resumed", () =>
      Effect.gen(function*() {
        const body = bytesOf(300_000)
        const host = yield* fileHost({
          files: { "a.csv": { body, etag: "\"v1\"" } },
          plan: (_, n) => n === 0 ? hold(100_000, new Promise(() => {})) : serve
        })
        // The first bytes reported: the body is being read, and watched from this instant of the test clock.
        const reading = latch()
        const fiber = yield* withTaskResults(
          fakeClient({ host, listing: listOf("a.csv") }).client,
          (s) => s.download(taskId, { directory: tempDir(), onProgress: () => Effect.sync(() => reading.resolve()) }),
          { idleTimeout: "10 seconds", lowSpeed: false }
        ).pipe(Effect.fork)
        yield* reading.await
        yield* TestClock.adjust("30 seconds")
        const [file] = yield* Fiber.join(fiber)
        assert.strictEqual(host.seen.length, 2)
        assert.strictEqual(file!.sha256, sha256(body))
      }).pipe(Effect.scoped))
  })

  describe("expired URLs", () => {
    it.effect("a URL expired by the clock is fetched afresh before the next request, once", () =>
      Effect.gen(function*() {
        const body = bytesOf(300_000)
        const sent = latch()
        const release = latch<"drop" | "finish">()
        const host = yield* fileHost({
          files: { "a.csv": { body, etag: "\"v1\"" } },
          plan: (_, n) => n === 0 ? hold(100_000, release.promise, sent) : serve
        })
        const fake = fakeClient({ host, listing: listOf("a.csv") })
        const fiber = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory: tempDir() }), noIdle)
          .pipe(Effect.fork)
        yield* sent.await
        yield* TestClock.adjust("5 minutes")
        release.resolve("drop")
        const [file] = yield* Fiber.join(fiber)
        // The stale URL is never sent again: the clock said it had expired. The second request asks for the
        // rest of the file from the bytes the client had read when the connection dropped (a 206), or for
        // the whole file if none had reached it yet (a 200): the host's write does not say which.
        const [first, second, ...more] = requests(host)
        assert.deepStrictEqual(first, ["1", 200, null])
        assert.deepStrictEqual(more, [])
        assert.strictEqual(second?.[0], "2")
        assert.isTrue(
          (second?.[1] === 206 && /^bytes=[1-9]\d*-$/.test(String(second?.[2]))) ||
            (second?.[1] === 200 && second?.[2] === null),
          JSON.stringify(second)
        )
        assert.deepStrictEqual(fake.downloadCalls, [0, 300_000])
        assert.strictEqual(file!.sha256, sha256(body))
      }).pipe(Effect.scoped))

    it.live("a 403 from the host (expired signature) refreshes the URLs once and continues from the bytes had", () =>
      Effect.gen(function*() {
        const a = bytesOf(500_000, 1)
        const b = bytesOf(300_000, 2)
        const host = yield* fileHost({
          files: { "a.csv": { body: a, etag: "\"a\"" }, "b.csv": { body: b, etag: "\"b\"" } },
          plan: (key, n) => {
            if (key === "a.csv" && n === 0) {
              host_.expire(1)
              return dropAfter(200_000)
            }
            return serve
          }
        })
        const host_ = host
        const fake = fakeClient({ host, listing: listOf("a.csv", "b.csv") })
        const files = yield* withTaskResults(
          fake.client,
          (s) => s.download(taskId, { directory: tempDir(), concurrency: 1 })
        )
        assert.deepStrictEqual(files.map((file) => file.sha256), [sha256(a), sha256(b)])
        assert.deepStrictEqual(requests(host), [
          ["1", 200, null],
          ["1", 403, "bytes=200000-"],
          ["2", 206, "bytes=200000-"],
          ["2", 200, null] // b.csv uses the fresh list: no second refresh
        ])
        assert.strictEqual(fake.downloadCalls.length, 2)
      }).pipe(Effect.scoped))

    it.effect("files that see the same expiry at once ask for fresh URLs once", () =>
      Effect.gen(function*() {
        const a = bytesOf(300_000, 1)
        const b = bytesOf(300_000, 2)
        const bothAsked = latch()
        let asked = 0
        const host = yield* fileHost({
          files: { "a.csv": { body: a, etag: "\"a\"" }, "b.csv": { body: b, etag: "\"b\"" } },
          plan: (_, n) => {
            if (n > 0) return serve
            if (++asked === 2) {
              host_.expire(1)
              bothAsked.resolve()
            }
            return after(bothAsked.promise, dropAfter(100_000))
          }
        })
        const host_ = host
        // Fresh URLs take a second to come: both files are refused before the first refresh is done.
        const refreshing = latch()
        const fake = fakeClient({ host, listing: listOf("a.csv", "b.csv"), refreshDelay: "1 second", refreshing })
        const fiber = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory: tempDir() }), noIdle)
          .pipe(Effect.fork)
        // The refresh is under way (and sleeping its second): the other file's 403 joins it or finds it done.
        yield* refreshing.await
        yield* TestClock.adjust("1 second")
        const files = yield* Fiber.join(fiber)
        assert.deepStrictEqual(files.map((file) => file.sha256), [sha256(a), sha256(b)])
        assert.strictEqual(fake.downloadCalls.length, 2)
      }).pipe(Effect.scoped))

    it.live("a 403 again right after a refresh is an Expired error", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({
          files: { "a.csv": { body: bytesOf(1000) } },
          plan: () => status(403, { "content-type": "application/xml" }, expiredXml)
        })
        const fake = fakeClient({ host, listing: listOf("a.csv") })
        const error = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory: tempDir() })).pipe(
          Effect.flip
        )
        assert.strictEqual(error._tag, "DownloadError")
        if (error._tag !== "DownloadError") return
        assert.strictEqual(error.reason, "Expired")
        assert.strictEqual(error.status, 403)
        assert.strictEqual(fake.downloadCalls.length, 2)
        assert.strictEqual(host.seen.length, 2)
        const printed = [JSON.stringify(error), String(error), error.message, error.stack ?? ""].join("\n")
        assert.notInclude(printed, signatureSecret)
        assert.notInclude(printed, "X-Amz")
      }).pipe(Effect.scoped))

    it.effect("a 429 after the refresh waits its Retry-After, then continues; the endpoint is asked once more", () =>
      Effect.gen(function*() {
        const body = bytesOf(400_000)
        const host = yield* fileHost({
          files: { "a.csv": { body, etag: "\"v1\"" } },
          plan: (_, n) => {
            if (n === 0) {
              host_.expire(1)
              return dropAfter(150_000)
            }
            return n === 2 ? status(429, { "retry-after": "7" }) : serve
          }
        })
        const host_ = host
        const fake = fakeClient({ host, listing: listOf("a.csv") })
        // The retry is logged just before it sleeps.
        const retrying = latch()
        const logger = Logger.replace(
          Logger.defaultLogger,
          Logger.make(({ message }) => {
            if (String(message).includes("retrying")) retrying.resolve()
          })
        )
        const fiber = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory: tempDir() }), noIdle)
          .pipe(Effect.provide(logger), Effect.fork)
        yield* retrying.await
        // The wait of the retry is the Retry-After, and at most a fifth more (jitter).
        const sleeps = yield* TestClock.sleeps()
        assert.isTrue(Chunk.some(sleeps, (at) => at >= 7000 && at <= 8400), String(Chunk.toReadonlyArray(sleeps)))
        yield* TestClock.adjust("8400 millis")
        const [file] = yield* Fiber.join(fiber)
        assert.deepStrictEqual(requests(host), [
          ["1", 200, null],
          ["1", 403, "bytes=150000-"],
          ["2", 429, "bytes=150000-"],
          ["2", 206, "bytes=150000-"]
        ])
        assert.strictEqual(fake.downloadCalls.length, 2)
        assert.strictEqual(file!.sha256, sha256(body))
      }).pipe(Effect.scoped))

    it.live("a file missing from the fresh list is a Missing DownloadError", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({
          files: { "a.csv": { body: bytesOf(1000), etag: "\"a\"" }, "b.csv": { body: bytesOf(1000) } },
          plan: (_, n) => {
            if (n > 0) return serve
            host_.expire(1)
            return dropAfter(500)
          }
        })
        const host_ = host
        const fake = fakeClient({ host, listing: (call) => call === 0 ? listOf("a.csv")() : listOf("b.csv")() })
        const error = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory: tempDir() })).pipe(
          Effect.flip
        )
        assert.strictEqual(error._tag, "DownloadError")
        if (error._tag !== "DownloadError") return
        assert.strictEqual(error.reason, "Missing")
        assert.strictEqual(error.fileName, "a.csv")
        assert.include(error.message, "a.csv")
      }).pipe(Effect.scoped))

    it.live("an API error while fetching fresh URLs fails the download with it, leaving only temporary files", () =>
      Effect.gen(function*() {
        // The connection drops once the client has bytes of the file (it reports them).
        const release = latch<"drop" | "finish">()
        const host = yield* fileHost({
          files: { "a.csv": { body: bytesOf(100_000), etag: "\"v\"" } },
          plan: (_, n) => {
            if (n === 0) host_.expire(1)
            return hold(10_000, release.promise)
          }
        })
        const host_ = host
        const tooMany = new TextRevealError.TooManyRequests({
          status: 429,
          message: "You have too many exports in progress.",
          reason: "too_many_requests",
          attempts: 9
        })
        const fake = fakeClient({ host, listing: listOf("a.csv"), failure: (call) => call === 1 ? tooMany : undefined })
        const directory = tempDir()
        const error = yield* withTaskResults(
          fake.client,
          (s) => s.download(taskId, { directory, onProgress: () => Effect.sync(() => release.resolve("drop")) })
        ).pipe(Effect.flip)
        assert.deepInclude(error, { _tag: "TooManyRequests", status: 429, attempts: 9 })
        assert.deepStrictEqual(listing(directory), [".a.csv.part", ".textreveal-manifest.json"])
      }).pipe(Effect.scoped))
  })

  describe("file host errors", () => {
    it.live("5xx are retried, then a Status error naming the file, without the URL's query", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({ files: { "a.csv": { body: bytesOf(1000) } }, plan: () => status(503) })
        const error = yield* withTaskResults(
          fakeClient({ host, listing: listOf("a.csv") }).client,
          (s) => s.download(taskId, { directory: tempDir() }).pipe(Effect.flip),
          { retry: { times: 2, base: "1 millis" } }
        )
        assert.strictEqual(host.seen.length, 3)
        assert.strictEqual(error._tag, "DownloadError")
        if (error._tag !== "DownloadError") return
        assert.strictEqual(error.reason, "Status")
        assert.strictEqual(error.status, 503)
        assert.include(error.message, "a.csv")
        const printed = [JSON.stringify(error), String(error), error.stack ?? ""].join("\n")
        assert.notInclude(printed, signatureSecret)
        assert.notInclude(printed, "127.0.0.1")
      }).pipe(Effect.scoped))

    it.live("a 404 is not retried", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({ files: {} })
        const error = yield* withTaskResults(
          fakeClient({ host, listing: listOf("gone.csv") }).client,
          (s) => s.download(taskId, { directory: tempDir() }).pipe(Effect.flip)
        )
        assert.strictEqual(host.seen.length, 1)
        assert.deepInclude(error, { _tag: "DownloadError", reason: "Status", status: 404, fileName: "gone.csv" })
      }).pipe(Effect.scoped))

    it.live("a connection refused is a Transport error after the retries", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({ files: {} })
        const closed = yield* Effect.scoped(fileHost({ files: {} }))
        const fake = fakeClient({ host, listing: listOf("a.csv") })
        const client = {
          ...fake.client,
          getDownloadUrls: (id: string) =>
            Effect.map(
              fake.client.getDownloadUrls(id),
              (urls) => urls.map((url) => new DownloadUrl({ ...url, url: closed.url("a.csv") }))
            )
        }
        const error = yield* withTaskResults(client, (s) => s.download(taskId, { directory: tempDir() })).pipe(
          Effect.flip
        )
        assert.deepInclude(error, { _tag: "DownloadError", reason: "Transport", fileName: "a.csv" })
        assert.include((error as TaskResults.DownloadError).message, "ECONNREFUSED")
      }).pipe(Effect.scoped))
  })

  describe("re-runs", () => {
    it.live("a re-run fetches nothing; a deleted or resized file is fetched again; overwrite fetches all", () =>
      Effect.gen(function*() {
        const a = bytesOf(50_000, 1)
        const b = bytesOf(60_000, 2)
        const host = yield* fileHost({
          files: { "a.csv": { body: a, etag: "\"a\"" }, "b.csv": { body: b, etag: "\"b\"" } }
        })
        const fake = fakeClient({ host, listing: listOf("a.csv", "b.csv") })
        const directory = tempDir()
        const run = (overwrite?: boolean) =>
          withTaskResults(fake.client, (s) => s.download(taskId, { directory, overwrite }))
        const first = yield* run()
        assert.strictEqual(host.seen.length, 2)

        const second = yield* run()
        assert.strictEqual(host.seen.length, 2)
        assert.deepStrictEqual(second, first.map((file) => ({ ...file, skipped: true })))

        fs.rmSync(nodePath.join(directory, "a.csv"))
        fs.appendFileSync(nodePath.join(directory, "b.csv"), "x")
        const third = yield* run()
        assert.deepStrictEqual(host.seen.slice(2).map((seen) => seen.key).sort(), ["a.csv", "b.csv"])
        assert.deepStrictEqual(third, first)
        assert.deepStrictEqual(read(nodePath.join(directory, "b.csv")), b)

        const fourth = yield* run(true)
        assert.strictEqual(host.seen.length, 6)
        assert.deepStrictEqual(fourth, first)
      }).pipe(Effect.scoped))
  })

  describe("the directory", () => {
    it.live("an unwritable directory is a PlatformError naming it, before anything is fetched", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({ files: { "a.csv": { body: bytesOf(10) } } })
        const fake = fakeClient({ host, listing: listOf("a.csv") })
        const base = tempDir()
        fs.writeFileSync(nodePath.join(base, "file"), "")
        const directory = nodePath.join(base, "file", "sub") // under a file: refused, even to root
        const error = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory })).pipe(Effect.flip)
        assert.strictEqual(error._tag, "SystemError")
        assert.include(error.message, directory)
        assert.strictEqual(fake.downloadCalls.length, 0)
        assert.strictEqual(host.seen.length, 0)
      }).pipe(Effect.scoped))

    it.live.skipIf(process.getuid?.() === 0)(
      "a read-only directory is a PlatformError naming it",
      () =>
        Effect.gen(function*() {
          const host = yield* fileHost({ files: { "a.csv": { body: bytesOf(10) } } })
          const fake = fakeClient({ host, listing: listOf("a.csv") })
          const directory = tempDir()
          fs.chmodSync(directory, 0o555)
          const error = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory })).pipe(Effect.flip)
          assert.strictEqual(error._tag, "SystemError")
          assert.include(error.message, directory)
          assert.strictEqual(host.seen.length, 0)
        }).pipe(Effect.scoped)
    )

    it.live("hostile names stay inside the directory", () =>
      Effect.gen(function*() {
        const names = [
          "../../escape.csv",
          "/etc/passwd",
          "..",
          ".hidden",
          "a\u0000b\nc.csv",
          "..\\..\\win.csv",
          ".textreveal-manifest.json",
          ".a.csv.part",
          `${"é".repeat(300)}.csv`
        ]
        const files = Object.fromEntries(names.map((_, i) => [`k${i}`, { body: bytesOf(100 + i, i) }]))
        const host = yield* fileHost({ files })
        const fake = fakeClient({ host, listing: () => names.map((fileName, i) => ({ fileName, key: `k${i}` })) })
        const base = tempDir()
        const directory = nodePath.join(base, "dl")
        const result = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory }))
        assert.deepStrictEqual(listing(base), ["dl"])
        result.forEach((file, i) => {
          assert.strictEqual(nodePath.dirname(file.path), directory)
          assert.isFalse(file.fileName.startsWith("."))
          assert.isAtMost(Buffer.byteLength(file.fileName), 200)
          assert.deepStrictEqual(read(file.path), bytesOf(100 + i, i))
        })
        assert.strictEqual(new Set(result.map((file) => file.fileName)).size, names.length)
        const manifest = JSON.parse(fs.readFileSync(nodePath.join(directory, ".textreveal-manifest.json"), "utf8"))
        assert.strictEqual(manifest.files.length, names.length)
      }).pipe(Effect.scoped))

    it.live("files named alike get distinct names, in URL order, kept across runs", () =>
      Effect.gen(function*() {
        const host = yield* fileHost({
          files: { k1: { body: bytesOf(10, 1) }, k2: { body: bytesOf(10, 2) }, k3: { body: bytesOf(10, 3) } }
        })
        const fake = fakeClient({
          host,
          listing:
            () => [{ fileName: "a.csv", key: "k1" }, { fileName: "a.csv", key: "k2" }, { fileName: "A.csv", key: "k3" }]
        })
        const directory = tempDir()
        const first = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory }))
        assert.deepStrictEqual(first.map((file) => file.fileName), ["a.csv", "a (2).csv", "A (3).csv"])
        first.forEach((file, i) => assert.deepStrictEqual(read(file.path), bytesOf(10, i + 1)))
        const second = yield* withTaskResults(fake.client, (s) => s.download(taskId, { directory }))
        assert.deepStrictEqual(second.map((file) => [file.fileName, file.skipped]), [
          ["a.csv", true],
          ["a (2).csv", true],
          ["A (3).csv", true]
        ])
      }).pipe(Effect.scoped))
  })

  describe("concurrency", () => {
    const sixFiles = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.csv`, { body: bytesOf(1000, i) }]))

    it.live.each([[undefined, 4], [2, 2]] as const)(
      "concurrency %s: at most %s files at once",
      ([concurrency, most]) =>
        Effect.gen(function*() {
          // Each answer waits 40 ms: time enough for every file that may start to start.
          const host = yield* fileHost({ files: sixFiles, plan: () => after(40, serve) })
          const fake = fakeClient({ host, listing: listOf(...Object.keys(sixFiles)) })
          const files = yield* withTaskResults(
            fake.client,
            (s) => s.download(taskId, { directory: tempDir(), concurrency })
          )
          assert.strictEqual(files.length, 6)
          assert.strictEqual(host.inFlight.max, most)
        }).pipe(Effect.scoped)
    )

    it.live("one failure stops the others and leaves only temporary files", () =>
      Effect.gen(function*() {
        const bRead = latch()
        const cRead = latch()
        const never = new Promise<"drop" | "finish">(() => {})
        const host = yield* fileHost({
          files: {
            "a.csv": { body: bytesOf(1000) },
            "b.csv": { body: bytesOf(300_000), etag: "\"b\"" },
            "c.csv": { body: bytesOf(300_000), etag: "\"c\"" }
          },
          // a.csv fails once the client has bytes of b.csv and c.csv (it reports them).
          plan: (key) =>
            key === "a.csv"
              ? after(Promise.all([bRead.promise, cRead.promise]), status(404))
              : hold(100_000, never)
        })
        const directory = tempDir()
        const onProgress = (progress: TaskResults.Progress) =>
          Effect.sync(() => {
            if (progress.fileBytes === 0) return
            if (progress.fileName === "b.csv") bRead.resolve()
            if (progress.fileName === "c.csv") cRead.resolve()
          })
        const error = yield* withTaskResults(
          fakeClient({ host, listing: listOf("a.csv", "b.csv", "c.csv") }).client,
          (s) => s.download(taskId, { directory, onProgress }).pipe(Effect.flip)
        )
        assert.deepInclude(error, { _tag: "DownloadError", reason: "Status", status: 404, fileName: "a.csv" })
        const left = listing(directory)
        assert.includeMembers(left, [".b.csv.part", ".c.csv.part"])
        assert.isTrue(left.every((name) => name.startsWith(".")), left.join(", "))
      }).pipe(Effect.scoped))
  })

  it.effect("progress is reported at most every 100 ms per file, and once when the file is complete", () =>
    Effect.gen(function*() {
      const body = bytesOf(3_000_000)
      const release = latch<"drop" | "finish">()
      const host = yield* fileHost({
        files: { "a.csv": { body, etag: "\"v\"" } },
        plan: () => hold(1_000_000, release.promise)
      })
      const reports: Array<readonly [number, TaskResults.Progress]> = []
      const first = latch()
      const fiber = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) =>
          s.download(taskId, {
            directory: tempDir(),
            onProgress: (progress) =>
              Effect.map(Clock.currentTimeMillis, (now) => {
                reports.push([now, progress])
                first.resolve()
              })
          }),
        noIdle
      ).pipe(Effect.fork)
      yield* first.await
      yield* TestClock.adjust("100 millis")
      release.resolve("finish")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(reports.map(([at]) => at), [0, 100, 100])
      assert.isAbove(reports[0]![1].fileBytes, 0)
      assert.deepStrictEqual(reports[2]![1], {
        fileName: "a.csv",
        fileBytes: body.length,
        fileSize: body.length,
        totalBytes: body.length,
        totalSize: body.length
      })
    }).pipe(Effect.scoped))
})

describe("TaskResults.files", () => {
  it.live("streams each file's bytes without the disk, resumed after a drop, in URL order", () =>
    Effect.gen(function*() {
      const a = bytesOf(800_000, 1)
      const b = bytesOf(1000, 2)
      const host = yield* fileHost({
        files: { "a.csv": { body: a, etag: "\"a\"" }, "b.csv": { body: b } },
        plan: (key, n) => key === "a.csv" && n === 0 ? dropAfter(300_000) : serve
      })
      const got = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv", "b.csv") }).client,
        (s) =>
          s.files(taskId).pipe(
            Effect.flatMap((files) =>
              Effect.forEach(files, (file) =>
                Effect.map(
                  Stream.runCollect(file.stream),
                  (chunks) => [file.fileName, Buffer.concat([...chunks])] as const
                ))
            )
          )
      )
      assert.deepStrictEqual(got.map(([name, bytes]) => [name, sha256(bytes)]), [["a.csv", sha256(a)], [
        "b.csv",
        sha256(b)
      ]])
      assert.deepStrictEqual(requests(host)[1], ["1", 206, "bytes=300000-"])
    }).pipe(Effect.scoped))

  it.live("a host that starts over with the same ETag: the bytes already emitted are not emitted again", () =>
    Effect.gen(function*() {
      const a = bytesOf(500_000)
      const host = yield* fileHost({
        files: { "a.csv": { body: a, etag: "\"a\"" } },
        plan: (_, n) => n === 0 ? dropAfter(200_000) : ignoreRange
      })
      const bytes = yield* withTaskResults(
        fakeClient({ host, listing: listOf("a.csv") }).client,
        (s) => s.files(taskId).pipe(Effect.flatMap(([file]) => Stream.runCollect(file!.stream)))
      )
      assert.strictEqual(sha256(Buffer.concat([...bytes])), sha256(a))
    }).pipe(Effect.scoped))

  it.live("a file that changed after bytes were emitted is EntityChanged", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({
        files: { "a.csv": { body: bytesOf(500_000), etag: "\"a\"" } },
        plan: (_, n) => {
          if (n === 0) return dropAfter(200_000)
          host_.files.set("a.csv", { body: bytesOf(500_000, 9), etag: "\"b\"" })
          return serve
        }
      })
      const host_ = host
      const error = yield* withTaskResults(fakeClient({ host, listing: listOf("a.csv") }).client, (s) =>
        s.files(taskId).pipe(Effect.flatMap(([file]) => Stream.runDrain(file!.stream)), Effect.flip))
      assert.deepInclude(error, { _tag: "DownloadError", reason: "EntityChanged", fileName: "a.csv" })
    }).pipe(Effect.scoped))
})

describe("TaskResults.rows", () => {
  const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"))

  it.live("reads records by header name: reordered columns, BOM, CRLF, quotes, commas and line breaks in fields", () =>
    Effect.gen(function*() {
      const first = "\uFEFFid,name,note\r\n1,Ann,\"two\r\nlines\"\r\n\r\n2,Bob,\"says \"\"hi\"\", twice\"\r\n"
      const second = "note,id,name\n,3,Cé\n\"x,y\",4,Dan"
      const host = yield* fileHost({
        files: { "one.csv": { body: utf8(first), etag: "\"1\"" }, "two.csv": { body: utf8(second) } },
        plan: (key, n) => key === "one.csv" && n === 0 ? dropAfter(30) : serve
      })
      const rows = yield* withTaskResults(
        fakeClient({ host, listing: listOf("one.csv", "two.csv") }).client,
        (s) => Stream.runCollect(s.rows(taskId))
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(rows), [
        { id: "1", name: "Ann", note: "two\r\nlines" },
        { id: "2", name: "Bob", note: "says \"hi\", twice" },
        { id: "3", name: "Cé", note: "" },
        { id: "4", name: "Dan", note: "x,y" }
      ])
    }).pipe(Effect.scoped))

  it.live("gunzips a body sent with Content-Encoding: gzip, and a .gz file", () =>
    Effect.gen(function*() {
      const csv = "a,b\n1,2\n3,4\n"
      const host = yield* fileHost({
        files: { "c.csv": { body: utf8(csv) }, "d.csv.gz": { body: new Uint8Array(Zlib.gzipSync(csv)) } },
        plan: (key) => key === "c.csv" ? { _tag: "Gzip" } : serve
      })
      const rows = yield* withTaskResults(fakeClient({ host, listing: listOf("c.csv", "d.csv.gz") }).client, (s) =>
        Stream.runCollect(s.rows(taskId)))
      assert.deepStrictEqual(Chunk.toReadonlyArray(rows), [{ a: "1", b: "2" }, { a: "3", b: "4" }, { a: "1", b: "2" }, {
        a: "3",
        b: "4"
      }])
    }).pipe(Effect.scoped))

  const typed = "id,name,note\n1,Ann,\"x\ny\"\noops,Bob,z\n3,Cy,w,extra\n4,Dee,v\n" // lines: header 1, Ann 2-3, oops 4, Cy 5, Dee 6
  const Person = Schema.Struct({ id: Schema.NumberFromString, name: Schema.String })

  it.live("decodes rows with a user schema; a bad row is a RowError naming the file, the line and the field", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: { "p.csv": { body: utf8(typed) } } })
      const [error, before] = yield* withTaskResults(
        fakeClient({ host, listing: listOf("p.csv") }).client,
        (s) => {
          const seen: Array<{ readonly id: number; readonly name: string }> = []
          return s.rows(taskId, { schema: Person }).pipe(
            Stream.runForEach((row) => Effect.sync(() => seen.push(row))),
            Effect.flip,
            Effect.map((error) => [error, seen] as const)
          )
        }
      )
      assert.deepStrictEqual(before, [{ id: 1, name: "Ann" }])
      assert.strictEqual(error._tag, "RowError")
      if (error._tag !== "RowError") return
      assert.strictEqual(error.fileName, "p.csv")
      assert.strictEqual(error.line, 4)
      assert.include(error.message, "\"id\"")
    }).pipe(Effect.scoped))

  it.live("onInvalid: skip leaves out the rows the schema or the header refuses", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: { "p.csv": { body: utf8(typed) } } })
      const rows = yield* withTaskResults(fakeClient({ host, listing: listOf("p.csv") }).client, (s) =>
        Stream.runCollect(s.rows(taskId, { schema: Person, onInvalid: "skip" })))
      assert.deepStrictEqual(Chunk.toReadonlyArray(rows), [{ id: 1, name: "Ann" }, { id: 4, name: "Dee" }])
    }).pipe(Effect.scoped))

  it.live.each(
    [
      ["a record wider than the header", "a,b\n1,2\n3,4,5\n", 3, "expected 2 fields"],
      ["an unclosed quote", "a,b\n1,2\n\n3,\"open\n4,5\n", 4, "not closed"],
      ["a header naming a column twice", "a,a\n1,2\n", 1, "twice"]
    ] as const
  )("%s is a RowError at its line", ([_, csv, line, message]) =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: { "p.csv": { body: utf8(csv) } } })
      const error = yield* withTaskResults(fakeClient({ host, listing: listOf("p.csv") }).client, (s) =>
        Stream.runDrain(s.rows(taskId)).pipe(Effect.flip))
      assert.deepInclude(error, { _tag: "RowError", fileName: "p.csv", line })
      assert.include(error.message, message)
    }).pipe(Effect.scoped))

  it.live("line numbers stay right across chunk boundaries and long files", () =>
    Effect.gen(function*() {
      const lines = ["n,text"]
      for (let i = 1; i <= 20_000; i++) lines.push(i % 1000 === 0 ? `${i},"multi\nline"` : `${i},row ${i}`)
      lines.push("bad")
      const csv = lines.join("\n") + "\n"
      const extraLines = 20 // each multi-line record adds one
      const host = yield* fileHost({ files: { "big.csv": { body: utf8(csv) } } })
      const error = yield* withTaskResults(fakeClient({ host, listing: listOf("big.csv") }).client, (s) =>
        Stream.runDrain(s.rows(taskId)).pipe(Effect.flip))
      assert.deepInclude(error, { _tag: "RowError", line: 20_002 + extraLines })
    }).pipe(Effect.scoped))
})

describe("TaskResults.awaitCompletion", () => {
  it.effect("polls until completed: waits from 2 s, growing by half, capped at 30 s, jittered", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: {} })
      const statuses = [...Array.from({ length: 11 }, () => "running" as const), "completed" as const]
      const fake = fakeClient({ host, listing: listOf(), statuses })
      const fiber = yield* withTaskResults(fake.client, (s) => s.awaitCompletion(taskId)).pipe(Effect.fork)
      yield* TestClock.adjust("10 minutes")
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(fiber)))
      assert.strictEqual(fake.statusCalls.length, 12)
      const gaps = fake.statusCalls.slice(1).map((at, i) => at - fake.statusCalls[i]!)
      gaps.forEach((gap, i) => {
        const nominal = Math.min(2000 * 1.5 ** i, 30_000)
        assert.isAtLeast(gap, nominal * 0.8, `wait ${i}`)
        assert.isAtMost(gap, nominal * 1.2, `wait ${i}`)
      })
      assert.isAbove(new Set(gaps.map((gap, i) => gap / Math.min(2000 * 1.5 ** i, 30_000))).size, 1, "jittered")
    }).pipe(Effect.scoped))

  it.effect("a failed task is a TaskFailed", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: {} })
      const fake = fakeClient({ host, listing: listOf(), statuses: ["starting", "failed"] })
      const fiber = yield* withTaskResults(fake.client, (s) => s.awaitCompletion(taskId).pipe(Effect.flip)).pipe(
        Effect.fork
      )
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.deepInclude(error, { _tag: "TaskFailed", taskId })
    }).pipe(Effect.scoped))

  it.effect("the timeout is a WaitTimeout with the last status seen", () =>
    Effect.gen(function*() {
      const host = yield* fileHost({ files: {} })
      const fake = fakeClient({ host, listing: listOf(), statuses: ["starting", "running"] })
      const fiber = yield* withTaskResults(fake.client, (s) =>
        s.awaitCompletion(taskId, { timeout: "1 minute" }).pipe(Effect.flip)).pipe(Effect.fork)
      yield* TestClock.adjust("2 minutes")
      const error = yield* Fiber.join(fiber)
      assert.deepInclude(error, { _tag: "WaitTimeout", taskId, status: "running" })
      assert.include(error.message, "running")
    }).pipe(Effect.scoped))
})
