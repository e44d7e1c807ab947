/**
 * `TaskResults.download` of one large file to disk, beside raw Node pipelines on the same server in the
 * same run: `undici.request` and `fetch` bodies piped into `fs.createWriteStream`, and `curl -o` when
 * installed. Rounds alternate; each side runs in its own child process, so that its peak RSS is its own.
 * The server is a static file server in another child process (the file is generated once to disk). The
 * children run esbuild bundles with plain `node`; `ours` is its own bundle (`download-ours.ts`), so that the
 * raw sides load no Effect code.
 *
 *   npx tsx bench/download.ts [sizeMiB=200] [rounds=5]
 */
import { spawn, spawnSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { fileURLToPath } from "node:url"

const self = fileURLToPath(import.meta.url)
const sides = ["raw-undici", "raw-fetch", "server"]
const [mode, ...args] = sides.includes(process.argv[2] ?? "")
  ? process.argv.slice(2)
  : ["main", ...process.argv.slice(2)]

/** What a side prints: `RESULT {"millis", "maxRssMiB", "sha256"?}`. */
export interface Measure {
  readonly millis: number
  readonly maxRssMiB: number
  readonly sha256?: string
}

export const report = (start: bigint, sha?: string) => {
  const millis = Number(process.hrtime.bigint() - start) / 1e6
  const measure: Measure = {
    millis,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    ...(sha === undefined ? {} : { sha256: sha })
  }
  process.stdout.write(`RESULT ${JSON.stringify(measure)}\n`)
}

/** A static server: the file from disk, as fast as Node can send it. */
const server = (file: string) => {
  const size = fs.statSync(file).size
  Http.createServer((_request, response) => {
    response.writeHead(200, { "content-length": size, "content-type": "text/csv", etag: "\"bench\"" })
    fs.createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(response)
  }).listen(0, "127.0.0.1", function(this: Http.Server) {
    process.stdout.write(`LISTENING ${(this.address() as AddressInfo).port}\n`)
  })
}

const rawUndici = async (url: string, out: string) => {
  const undici = await import("undici")
  const start = process.hrtime.bigint()
  const { body } = await undici.request(url)
  await pipeline(body, fs.createWriteStream(out))
  report(start)
}

const rawFetch = async (url: string, out: string) => {
  const start = process.hrtime.bigint()
  const response = await fetch(url)
  await pipeline(Readable.fromWeb(response.body as never), fs.createWriteStream(out))
  report(start)
}

/** `curl -o`: its own clock (`time_total`) and its peak RSS as `/usr/bin/time` measures it, when installed. */
const curl = (url: string, out: string): Measure => {
  const hasTime = fs.existsSync("/usr/bin/time")
  const args = ["-s", "-w", "TIME %{time_total}", "-o", out, url]
  const child = hasTime
    ? spawnSync("/usr/bin/time", ["-f", "RSS %M", "curl", ...args])
    : spawnSync("curl", args)
  if (child.status !== 0) throw new Error(`curl failed: ${child.stderr}`)
  const time = Number(/TIME ([\d.]+)/.exec(String(child.stdout))?.[1])
  const rss = Number(/RSS (\d+)/.exec(String(child.stderr))?.[1])
  return { millis: time * 1000, maxRssMiB: rss / 1024 }
}

/**
 * The children run a bundle of this file with plain `node`, so that no loader (tsx) weighs on their time or
 * memory: every side pays the same start-up.
 */
const bundle = async (entry: string, name: string): Promise<string> => {
  const esbuild = await import("esbuild")
  const out = path.join(path.dirname(self), "..", "node_modules", ".cache", "effect-textreveal-bench", name)
  await esbuild.build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(path.dirname(self), "..", "tsconfig.json"),
    logLevel: "warning"
  })
  return out
}

let bundled: string
let bundledOurs: string

const runChild = (side: string, url: string, out: string): Promise<Measure> =>
  new Promise((resolve, reject) => {
    const child = side === "ours"
      ? spawn(process.execPath, [bundledOurs, url, out], { stdio: ["ignore", "pipe", "inherit"] })
      : spawn(process.execPath, [bundled, side, url, out], { stdio: ["ignore", "pipe", "inherit"] })
    let text = ""
    child.stdout.on("data", (data) => (text += data))
    child.on("exit", (code) => {
      const line = text.split("\n").find((l) => l.startsWith("RESULT "))
      if (code !== 0 || line === undefined) reject(new Error(`${side} exited ${code}: ${text}`))
      else resolve(JSON.parse(line.slice(7)))
    })
  })

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const main = async () => {
  const sizeMiB = Number(args[0] ?? 200)
  const rounds = Number(args[1] ?? 5)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-download-"))
  const source = path.join(work, "source.csv")
  const block = Buffer.from(randomBytes(1024 * 1024).toString("base64").slice(0, 1024 * 1024))
  const fd = fs.openSync(source, "w")
  for (let i = 0; i < sizeMiB; i++) fs.writeSync(fd, block)
  fs.closeSync(fd)
  const sourceSha = createHash("sha256").update(fs.readFileSync(source)).digest("hex")

  bundled = await bundle(self, "download.mjs")
  bundledOurs = await bundle(path.join(path.dirname(self), "download-ours.ts"), "download-ours.mjs")
  const host = spawn(process.execPath, [bundled, "server", source], { stdio: ["ignore", "pipe", "inherit"] })
  const port = await new Promise<number>((resolve) => {
    host.stdout.on("data", (data: Buffer) => {
      const match = /LISTENING (\d+)/.exec(String(data))
      if (match) resolve(Number(match[1]))
    })
  })
  const url = `http://127.0.0.1:${port}/export.csv?X-Amz-Signature=bench`
  const hasCurl = spawnSync("curl", ["--version"]).status === 0
  const compared = ["raw-undici", "raw-fetch", "ours", ...(hasCurl ? ["curl"] : [])]
  const results = new Map<string, Array<Measure>>(compared.map((side) => [side, []]))
  const outDir = path.join(work, "out")
  fs.mkdirSync(outDir)
  for (let round = 0; round <= rounds; round++) {
    for (const side of round % 2 === 0 ? compared : [...compared].reverse()) {
      const measure: Measure = side === "curl"
        ? curl(url, path.join(outDir, "curl.csv"))
        : await runChild(side, url, side === "ours" ? outDir : path.join(outDir, `${side}.csv`))
      if (side === "ours" && measure.sha256 !== sourceSha) throw new Error("sha256 mismatch")
      if (round > 0) results.get(side)!.push(measure) // round 0 warms the page cache
    }
  }
  host.kill()
  const mbps = (m: number) => (sizeMiB * 1.048576) / (m / 1000)
  const base = median(results.get("raw-undici")!.map((m) => m.millis))
  console.log(
    `\n${sizeMiB} MiB file, ${rounds} alternating rounds, median (node ${process.version}, ${os.cpus().length} cores)`
  )
  console.log("| side | MB/s | vs raw undici | peak RSS MiB |")
  console.log("|---|---|---|---|")
  for (const side of compared) {
    const ms = median(results.get(side)!.map((m) => m.millis))
    const rss = median(results.get(side)!.map((m) => m.maxRssMiB))
    console.log(
      `| ${side} | ${mbps(ms).toFixed(0)} | ${(base / ms).toFixed(2)} | ${Number.isNaN(rss) ? "-" : rss.toFixed(0)} |`
    )
  }
  fs.rmSync(work, { recursive: true, force: true })
}

switch (mode) {
  case "server":
    server(args[0]!)
    break
  case "raw-undici":
    void rawUndici(args[0]!, args[1]!)
    break
  case "raw-fetch":
    void rawFetch(args[0]!, args[1]!)
    break
  default:
    void main()
}
