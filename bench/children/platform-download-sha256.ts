/**
 * The bare-platform side of the download benchmark: what Effect's own HTTP client gives without this
 * library. `HttpClient` (`NodeHttpClient.layerUndici`) bodies read through `response.stream`, each chunk
 * hashed with SHA-256 and gathered into 2 MiB batches, each written with one `fs.writev` while the next
 * fills; one file at a time. No retries, limits, manifest or checks: the floor a library on the platform
 * starts from.
 *
 *   node platform-download-sha256.mjs <directory> <concurrency> <url>...
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { cpuSince, nameOf, report, since } from "./report.js"

const [directory, concurrency, ...urls] = process.argv.slice(2) as [string, string, ...Array<string>]
const batchBytes = 2 * 1024 * 1024

const writev = (fd: number, pieces: ReadonlyArray<Uint8Array>) =>
  new Promise<void>((resolve, reject) => fs.writev(fd, pieces, (error) => (error ? reject(error) : resolve())))

const one = (url: string) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const response = yield* http.get(url)
    if (response.status !== 200) return yield* Effect.dieMessage(`${url}: ${response.status}`)
    const hash = createHash("sha256")
    const fd = fs.openSync(path.join(directory, nameOf(url)), "w")
    let pieces: Array<Uint8Array> = []
    let pending = 0
    let writing: Promise<void> = Promise.resolve()
    const dispatch = async () => {
      await writing
      const batch = pieces
      pieces = []
      pending = 0
      writing = writev(fd, batch)
    }
    yield* response.stream.pipe(Stream.runForEachChunk((chunk) => {
      for (const bytes of chunk) {
        hash.update(bytes)
        pieces.push(bytes)
        pending += bytes.length
      }
      return pending >= batchBytes ? Effect.promise(dispatch) : Effect.void
    }))
    yield* Effect.promise(async () => {
      await dispatch()
      await writing
      fs.closeSync(fd)
    })
    return { fileName: nameOf(url), sha256: hash.digest("hex") }
  }).pipe(Effect.scoped)

const start = process.hrtime.bigint()
const cpuStart = process.cpuUsage()
const files = await Effect.runPromise(
  Effect.forEach(urls, one, { concurrency: Number(concurrency) }).pipe(Effect.provide(NodeHttpClient.layerUndici))
)
report({ millis: since(start), runCpuMs: cpuSince(cpuStart), files })
