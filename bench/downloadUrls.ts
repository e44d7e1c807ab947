/**
 * `getDownloadUrls` beside the same request made with the bare platform `HttpClient` (same
 * `NodeHttpClient.layerUndici`, same server, no library) and raw `undici.request`, sequential and at
 * concurrency 32, against a server in its own process, in alternating rounds.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { fileURLToPath } from "node:url"
import * as undici from "undici"
import { compare, type Row, startServer, throughput } from "./lib.js"

const taskId = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
const token = "bench-token"

export const run = async (options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const server = await startServer(fileURLToPath(new URL("./servers/api.mjs", import.meta.url)))
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
    const platform = () => runtime.runPromise(Effect.flatMap(http.execute(request), (response) => response.json))
    const raw = async () => {
      const response = await undici.request(url, {
        headers: { authorization: `Bearer ${token}`, accept: "application/json" }
      })
      return response.body.json()
    }
    const rounds = options.quick ? 3 : 9
    const rows: Array<Row> = []
    for (const [label, total, concurrency] of [["sequential", 1500, 1], ["at 32", 6000, 32]] as const) {
      const calls = options.quick ? total / 5 : total
      // Warm-up: connections, JIT.
      await throughput(library, calls / 2, concurrency)
      await throughput(platform, calls / 2, concurrency)
      await throughput(raw, calls / 2, concurrency)
      rows.push({
        measure: `getDownloadUrls, ${label}`,
        baseline: "bare platform HttpClient (layerUndici)",
        ...(await compare(
          rounds,
          () => throughput(library, calls, concurrency),
          () => throughput(platform, calls, concurrency)
        )),
        target: ">= 0.9x"
      })
      rows.push({
        measure: `getDownloadUrls, ${label}`,
        baseline: "raw undici.request",
        ...(await compare(
          rounds,
          () => throughput(library, calls, concurrency),
          () => throughput(raw, calls, concurrency)
        ))
      })
      rows.push({
        measure: `bare platform HttpClient, ${label}`,
        baseline: "raw undici.request",
        ...(await compare(
          rounds,
          () => throughput(platform, calls, concurrency),
          () => throughput(raw, calls, concurrency)
        )),
        note: "what the platform itself costs"
      })
    }
    return rows
  } finally {
    await runtime.dispose()
    server.child.kill()
  }
}
