/**
 * The raw side of the download benchmark: `undici.request` bodies piped into `fs.createWriteStream`, at most
 * `concurrency` files at once. No Effect code is loaded.
 *
 *   node raw-download.mjs <directory> <concurrency> <url>...
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { pipeline } from "node:stream/promises"
import { request } from "undici"
import { cpuSince, nameOf, report, since } from "./report.js"

const [directory, concurrency, ...urls] = process.argv.slice(2) as [string, string, ...Array<string>]

const one = async (url: string) => {
  const { body, statusCode } = await request(url)
  if (statusCode !== 200) throw new Error(`${url}: ${statusCode}`)
  await pipeline(body, fs.createWriteStream(path.join(directory, nameOf(url))))
}

const start = process.hrtime.bigint()
const cpuStart = process.cpuUsage()
let next = 0
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (next < urls.length) await one(urls[next++]!)
}))
report({ millis: since(start), runCpuMs: cpuSince(cpuStart) })
