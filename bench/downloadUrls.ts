/**
 * `getDownloadUrls` beside the same request made with the bare platform `HttpClient` (same
 * `NodeHttpClient.layerUndici`, same server, no library) and raw `undici.request`, sequential and at
 * concurrency 32, against a server in its own process, the three in alternating order in every round.
 *
 *   npx tsx bench/downloadUrls.ts [--quick]
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { fileURLToPath } from "node:url"
import * as undici from "undici"
import { Credentials, TextRevealClient } from "../src/index.js"
import * as CallOverhead from "./callOverhead.js"
import { alternate, benchFile, log, ratioRow, type Row, startServer, stop, throughput } from "./lib.js"

const taskId = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
const token = "bench-token"

export const run = async (options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const server = await startServer(benchFile("servers/api.mjs"))
  const baseUrl = `http://127.0.0.1:${server.port}/v3`
  const url = `${baseUrl}/tasks/${taskId}/download`
  const runtime = ManagedRuntime.make(
    TextRevealClient.layer({ baseUrl }).pipe(
      Layer.provide(Credentials.layerToken(Redacted.make(token))),
      Layer.provideMerge(NodeHttpClient.layerUndici)
    )
  )
  try {
    const client = await runtime.runPromise(TextRevealClient.TextRevealClient)
    const http = await runtime.runPromise(HttpClient.HttpClient)
    const library = () => runtime.runPromise(client.getDownloadUrls(taskId))
    const request = HttpClientRequest.get(url).pipe(
      HttpClientRequest.bearerToken(token),
      HttpClientRequest.acceptJson
    )
    const platform = () =>
      runtime.runPromise(
        Effect.flatMap(http.execute(request), (response) =>
          response.status === 200 ? response.json : Effect.die(`status ${response.status}`))
      )
    const raw = async () => {
      const response = await undici.request(url, {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" }
      })
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
      return response.body.json()
    }
    const rounds = options.quick ? 2 : 7
    const rows: Array<Row> = []
    for (const [label, total, concurrency] of [["sequential", 500, 1], ["at 32", 2000, 32]] as const) {
      const calls = options.quick ? total / 4 : total
      log(`getDownloadUrls ${label}: ${rounds} round(s) of ${calls} calls a side`)
      // Warm-up: connections, JIT.
      for (const call of [library, platform, raw]) await throughput(call, calls / 2, concurrency)
      const measure = (call: () => Promise<unknown>) => async () => ({
        value: await throughput(call, calls, concurrency)
      })
      const samples = await alternate(rounds, {
        library: measure(library),
        platform: measure(platform),
        raw: measure(raw)
      })
      const vsPlatform = ratioRow(samples.library, samples.platform, "higher")
      rows.push(
        {
          measure: `\`getDownloadUrls\`, ${label}`,
          baseline: "bare platform HttpClient (layerUndici)",
          ...vsPlatform,
          unit: "calls/s",
          target: ">= 0.9x",
          met: vsPlatform.ratio >= 0.9
        },
        {
          measure: `\`getDownloadUrls\`, ${label}`,
          baseline: "raw undici.request",
          ...ratioRow(samples.library, samples.raw, "higher"),
          unit: "calls/s"
        },
        {
          measure: `bare platform HttpClient, ${label}`,
          baseline: "raw undici.request",
          ...ratioRow(samples.platform, samples.raw, "higher"),
          unit: "calls/s",
          note: "what the platform itself costs"
        }
      )
    }
    rows.push(...(await CallOverhead.run(options)))
    return rows
  } finally {
    await runtime.dispose()
    await stop(server.child)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./lib.js")
  process.stdout.write(`${formatTable(await run({ quick: process.argv.includes("--quick") }))}\n`)
}
