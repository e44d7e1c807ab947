/**
 * The raw side of the download benchmark that also hashes: `undici.request` bodies piped through a SHA-256
 * `createHash` (updated inline, on the thread that reads the socket) into `fs.createWriteStream`, at most
 * `concurrency` files at once. No Effect code is loaded. Prints each file's digest.
 *
 *   node raw-download-sha256.mjs <directory> <concurrency> <url>...
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import { request } from "undici"
import { cpuSince, nameOf, report, since } from "./report.js"

const [directory, concurrency, ...urls] = process.argv.slice(2) as [string, string, ...Array<string>]

const one = async (url: string) => {
  const { body, statusCode } = await request(url)
  if (statusCode !== 200) throw new Error(`${url}: ${statusCode}`)
  const hash = createHash("sha256")
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      callback(null, chunk)
    }
  })
  await pipeline(body, hashing, fs.createWriteStream(path.join(directory, nameOf(url))))
  return { fileName: nameOf(url), sha256: hash.digest("hex") }
}

const start = process.hrtime.bigint()
const cpuStart = process.cpuUsage()
let next = 0
const files: Array<{ readonly fileName: string; readonly sha256: string }> = []
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (next < urls.length) files.push(await one(urls[next++]!))
}))
report({ millis: since(start), runCpuMs: cpuSince(cpuStart), files })
