/**
 * The client against hostile servers on 127.0.0.1: whatever the status, headers and body (huge, deeply
 * nested, never finishing, made to trip a regex), the call ends with a typed result, in bounded time and
 * memory, and reads no more than its limits.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { taskId, token } from "./fixtures/fakeApi.js"

interface HostileServer {
  readonly baseUrl: string
  /** The body bytes the server wrote before the client hung up. */
  readonly sent: { written: number }
}

/** A server on an ephemeral port of 127.0.0.1, closed with the test's scope. */
const hostileServer = (handler: (response: http.ServerResponse, sent: { written: number }) => void) => {
  const sent = { written: 0 }
  return Effect.map(
    Effect.acquireRelease(
      Effect.async<http.Server>((resume) => {
        const server = http.createServer((_request, response) => handler(response, sent))
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    ),
    (server): HostileServer => ({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3`, sent })
  )
}
/** Writes `total` bytes of `chunk` repeated, as fast as the client takes them, until it hangs up. */
const flood = (response: http.ServerResponse, sent: { written: number }, chunk: Buffer, total: number) => {
  const write = () => {
    while (sent.written < total) {
      sent.written += chunk.length
      if (!response.write(chunk)) return response.once("drain", write)
    }
    response.end()
  }
  response.on("error", () => {})
  write()
}

const httpClients = [
  { name: "undici", layer: NodeHttpClient.layerUndici },
  { name: "fetch", layer: FetchHttpClient.layer }
] as const

const call = (
  baseUrl: string,
  client: Layer.Layer<import("@effect/platform/HttpClient").HttpClient>,
  options: TextRevealClient.Options = {}
) =>
  Effect.flatMap(TextRevealClient.TextRevealClient, (c) => c.getDownloadUrls(taskId)).pipe(
    Effect.provide(
      TextRevealClient.layer({ baseUrl, transientRetry: { times: 1, base: "1 millis" }, ...options }).pipe(
        Layer.orDie,
        Layer.provide(Layer.orDie(Credentials.layerToken(Redacted.make(token)))),
        Layer.provide(client)
      )
    ),
    Effect.exit,
    // The retries' log lines are checked elsewhere; here they would only clutter the output.
    Logger.withMinimumLogLevel(LogLevel.None)
  )

const typedFailure = <A>(exit: Exit.Exit<A, TextRevealClient.ApiError>) => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure")
  assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
  const error = Cause.squash(exit.cause) as TextRevealClient.ApiError
  return error
}

const mib = 1024 * 1024

describe.each(httpClients)("TextRevealClient against hostile servers ($name)", ({ layer }) => {
  it.scopedLive(
    "a 200 declaring 200 MB: refused at once, naming the limit, not retried, the body not read",
    () =>
      Effect.gen(function*() {
        let requests = 0
        const server = yield* hostileServer((response, sent) => {
          requests++
          response.writeHead(200, { "content-type": "application/json", "content-length": String(200 * mib) })
          flood(response, sent, Buffer.alloc(64 * 1024, 0x20), 200 * mib)
        })
        const error = typedFailure(yield* call(server.baseUrl, layer))
        assert.strictEqual(error._tag, "ResponseError")
        assert.include(error.message, "larger than the 8 MiB limit")
        assert.strictEqual(requests, 1)
        assert.isBelow(server.sent.written, 64 * mib)
      }),
    20_000
  )

  it.scopedLive("a chunked 200 of 200 MB: read up to the 8 MiB limit, then refused", () =>
    Effect.gen(function*() {
      let requests = 0
      const server = yield* hostileServer((response, sent) => {
        requests++
        response.writeHead(200, { "content-type": "application/json" })
        flood(response, sent, Buffer.from(`["${"a".repeat(64 * 1024 - 2)}`), 200 * mib)
      })
      const error = typedFailure(yield* call(server.baseUrl, layer))
      assert.include(error.message, "larger than the 8 MiB limit")
      assert.strictEqual(requests, 1)
      assert.isBelow(server.sent.written, 64 * mib)
    }), 20_000)

  it.scopedLive("maxBodyBytes is honoured", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end(JSON.stringify([`https://files.example/${"a".repeat(2000)}.csv`]))
      })
      const error = typedFailure(yield* call(server.baseUrl, layer, { maxBodyBytes: 1024 }))
      assert.include(error.message, "larger than the 1024 bytes limit")
    }))

  it.scopedLive(
    "an error body of 50 MB: a typed error with a short excerpt, only its start read",
    () =>
      Effect.gen(function*() {
        const server = yield* hostileServer((response, sent) => {
          response.writeHead(500, { "content-type": "text/html" })
          flood(response, sent, Buffer.from(`<p>${token} upstream down</p>`.repeat(1000)), 50 * mib)
        })
        const error = typedFailure(yield* call(server.baseUrl, layer))
        assert.strictEqual(error._tag, "ServerError")
        assert.isBelow(error.message.length, 300)
        assert.notInclude(error.message, token)
        assert.isBelow(server.sent.written, 32 * mib)
      }),
    20_000
  )

  it.scopedLive("a 100 KB error body of '<' (a backtracking trap) is read in linear time", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((response) => {
        response.writeHead(400, { "content-type": "text/html" })
        response.end("<".repeat(100_000))
      })
      const error = typedFailure(yield* call(server.baseUrl, layer))
      assert.strictEqual(error._tag, "Invalid")
    }))

  it.scopedLive("a 200 nested 10,000 deep is a Decode error, not a defect", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end("[".repeat(10_000) + "]".repeat(10_000))
      })
      const error = typedFailure(yield* call(server.baseUrl, layer))
      assert.strictEqual(error._tag, "ResponseError")
      assert.include(error.message, "not a JSON array of signed")
    }))

  it.scopedLive("an error body nested 10,000 deep is still the typed error of its status", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer((response) => {
        response.writeHead(404, { "content-type": "application/json" })
        response.end(`{"message":${"[".repeat(10_000)}${"]".repeat(10_000)}}`)
      })
      const error = typedFailure(yield* call(server.baseUrl, layer))
      assert.strictEqual(error._tag, "NotFound")
    }))

  it.scopedLive("a body that never ends times out (per attempt), then a RequestError that says so", () =>
    Effect.gen(function*() {
      let requests = 0
      const server = yield* hostileServer((response) => {
        requests++
        response.writeHead(200, { "content-type": "application/json" })
        response.write("[\"https://files.example/a.csv\"")
      })
      const error = typedFailure(yield* call(server.baseUrl, layer, { timeout: "300 millis" }))
      assert.strictEqual(error._tag, "RequestError")
      assert.include(error.message, "timed out")
      assert.strictEqual(requests, 2)
    }))

  it.scopedLive("a server that accepts and never answers times out too", () =>
    Effect.gen(function*() {
      const server = yield* hostileServer(() => {})
      const error = typedFailure(yield* call(server.baseUrl, layer, { timeout: "300 millis" }))
      assert.include(error.message, "timed out")
    }))

  it.scopedLive("a refused connection names the host and ECONNREFUSED", () =>
    Effect.gen(function*() {
      // A port that was just free: nothing listens there.
      const closed = yield* Effect.scoped(hostileServer(() => {}))
      const error = typedFailure(yield* call(closed.baseUrl, layer))
      assert.strictEqual(error._tag, "RequestError")
      assert.include(error.message, "127.0.0.1")
      assert.include(error.message, "ECONNREFUSED")
    }))
})
