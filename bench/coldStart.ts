/**
 * Cold start: a fresh `node` process that imports the package's main entry (`src` transpiled file by file
 * into `dist`'s shape), builds the client and makes one `getDownloadUrls` call, beside a plain `fetch`
 * script making the same call; wall time from spawn to exit, against the API stand-in in its own process.
 *
 *   npx tsx bench/coldStart.ts [--quick]
 */
import type { ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import {
  alternate,
  benchFile,
  bundle,
  log,
  ratioRow,
  type Row,
  runChild,
  type Sample,
  startServer,
  stop,
  transpileLibrary
} from "./lib.js"

export const run = async (options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const rounds = options.quick ? 2 : 5
  let server: ChildProcess | undefined
  try {
    const [entry, ours, plain] = await Promise.all([
      transpileLibrary(),
      bundle("children/cold-ours.ts"),
      bundle("children/cold-fetch.ts")
    ])
    const started = await startServer(benchFile("servers/api.mjs"))
    server = started.child
    const baseUrl = `http://127.0.0.1:${started.port}/v3`
    const side = (script: string, args: ReadonlyArray<string>) => async (): Promise<Sample> => {
      const { result, wallMs } = await runChild(script, args)
      if (result.urls !== 3) throw new Error(`${script}: ${JSON.stringify(result)}`)
      return { value: wallMs, rssMB: result.maxRssMB }
    }
    // One unmeasured run: the first read of the modules from disk is not what users see twice.
    await side(ours, [entry, baseUrl, "undici"])()
    log(`cold start: ${rounds} round(s)`)
    const samples = await alternate(rounds, {
      fetch: side(ours, [entry, baseUrl, "fetch"]),
      undici: side(ours, [entry, baseUrl, "undici"]),
      plain: side(plain, [baseUrl])
    })
    return [
      {
        measure: "cold start: import the main entry + one `getDownloadUrls` (FetchHttpClient)",
        baseline: "a plain `fetch` script",
        ...ratioRow(samples.fetch, samples.plain, "lower"),
        unit: "ms",
        note: "wall time of the process; modules imported by path"
      },
      {
        measure: "cold start: the same with `NodeHttpClient.layerUndici`",
        baseline: "a plain `fetch` script",
        ...ratioRow(samples.undici, samples.plain, "lower"),
        unit: "ms",
        note: "`@effect/platform-node/NodeHttpClient` by path"
      }
    ]
  } finally {
    if (server !== undefined) await stop(server)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./lib.js")
  process.stdout.write(`${formatTable(await run({ quick: process.argv.includes("--quick") }))}\n`)
}
