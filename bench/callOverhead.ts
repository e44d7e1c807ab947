/**
 * What the library adds to one call, in process: `getDownloadUrls` and the bare platform call (`execute` +
 * `json`) against the same in-memory `HttpClient` (no socket), in alternating rounds, as CPU time per call
 * (`process.cpuUsage`). The difference of the two is the library's own CPU cost per call.
 *
 *   npx tsx bench/callOverhead.ts                                      the row, as JSON
 *   node --cpu-prof --import tsx bench/callOverhead.ts 20000 library    a CPU profile of 20k calls, one side
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { fileURLToPath } from "node:url"
import { Credentials, TextRevealClient } from "../src/index.js"
import { alternate, log, ratioRow, type Row } from "./lib.js"

const taskId = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
const baseUrl = "http://127.0.0.1:1/v3"
const body = JSON.stringify(
  ["a", "b", "c"].map((name) =>
    `https://files.textreveal.com/exports/task=${taskId}/${name}.csv?X-Amz-Expires=300&X-Amz-Signature=0123456789abcdef`
  )
)

/** An HTTP peer answering at once, as the platform's clients do (an `HttpClient.make`, with its abort wiring). */
const memory = HttpClient.make((request) =>
  Effect.sync(() =>
    HttpClientResponse.fromWeb(
      request,
      new Response(body, {
        status: 200,
        headers: { "content-type": "application/json", "content-length": String(body.length) }
      })
    )
  )
)

/** CPU time (user + system) per call, in microseconds: what a loaded machine's other processes do not inflate. */
const perCall = async (call: () => Promise<unknown>, calls: number) => {
  const start = process.cpuUsage()
  for (let i = 0; i < calls; i++) await call()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / calls
}

const make = async () => {
  const runtime = ManagedRuntime.make(
    TextRevealClient.layer({ baseUrl }).pipe(
      Layer.provide(Credentials.layerToken(Redacted.make("bench-token"))),
      Layer.provideMerge(Layer.succeed(HttpClient.HttpClient, memory))
    )
  )
  const client = await runtime.runPromise(TextRevealClient.TextRevealClient)
  const request = HttpClientRequest.get(`${baseUrl}/tasks/${taskId}/download`).pipe(
    HttpClientRequest.bearerToken("bench-token"),
    HttpClientRequest.acceptJson
  )
  const sides = {
    library: () => runtime.runPromise(client.getDownloadUrls(taskId)),
    platform: () => runtime.runPromise(Effect.flatMap(memory.execute(request), (response) => response.json))
  }
  return { runtime, sides }
}

/** The row of the benchmark table: calls per second of CPU, ours against the bare platform call. */
export const run = async (options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const { runtime, sides } = await make()
  try {
    const calls = options.quick ? 1000 : 4000
    log(`getDownloadUrls in process: ${options.quick ? 2 : 5} round(s) of ${calls} calls a side, CPU time`)
    for (const call of Object.values(sides)) await perCall(call, calls / 2)
    // Calls per CPU-second, so that the ratio reads like the others (above 1: ours is cheaper).
    const measure = (call: () => Promise<unknown>) => async () => ({ value: 1e6 / (await perCall(call, calls)) })
    const samples = await alternate(options.quick ? 2 : 5, {
      library: measure(sides.library),
      platform: measure(sides.platform)
    })
    const row = ratioRow(samples.library, samples.platform, "higher")
    return [{
      measure: "`getDownloadUrls`, in process, CPU per call (in-memory HttpClient, no socket)",
      baseline: "bare platform call on the same HttpClient",
      ...row,
      unit: "calls per CPU-second",
      target: ">= 0.9x",
      met: row.ratio >= 0.9,
      note: `the library adds ${Math.round(1e6 / row.ours - 1e6 / row.base)} us of CPU a call`
    }]
  } finally {
    await runtime.dispose()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv[3] as "library" | "platform" | undefined
  if (only === undefined) {
    const [row] = await run({ quick: false })
    process.stdout.write(`${JSON.stringify(row, null, 2)}\n`)
  } else {
    const { runtime, sides } = await make()
    const calls = Number(process.argv[2] ?? 20_000)
    await perCall(sides[only], 2000)
    process.stdout.write(`${only}: ${(await perCall(sides[only], calls)).toFixed(1)} us of CPU a call\n`)
    await runtime.dispose()
  }
}
