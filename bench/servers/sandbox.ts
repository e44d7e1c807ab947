/**
 * The sandbox (`effect-textreveal/sandbox`) as a file host, in its own process: one task with one generated
 * CSV file of `rows` rows, hashed once (which writes it to the sandbox's disk cache, as its `files` does),
 * then its signed URL (valid an hour) fetched through the API with the library's client. Prints
 * `URL <url> SIZE <bytes>` and serves until killed (SIGTERM closes it: its disk cache is removed).
 *
 *   node sandbox.mjs <rows>
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { Sandbox } from "../../src/sandbox/index.js"
import * as TextRevealClient from "../../src/TextRevealClient.js"

const rows = Number(process.argv[2])

const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const client = yield* TextRevealClient.TextRevealClient
  const taskId = yield* sandbox.createTask({ files: [{ rows, name: "sandbox.csv" }] })
  const [file] = yield* sandbox.files(taskId)
  const [url] = yield* client.getDownloadUrls(taskId)
  process.stdout.write(`URL ${url!.url} SIZE ${file!.size}\n`)
  return yield* Effect.never
})

const fiber = Effect.runFork(
  program.pipe(
    Effect.provide(Sandbox.layerClient({ urlValidity: "1 hour" }).pipe(Layer.provide(FetchHttpClient.layer)))
  )
)
fiber.addObserver((exit) => {
  if (Exit.isFailure(exit) && !Exit.isInterrupted(exit)) {
    process.stderr.write(`sandbox: ${Cause.pretty(exit.cause)}\n`)
    process.exit(1)
  }
  process.exit(0)
})
// Killed by the benchmark: interrupt, so that the sandbox's scope closes and removes its disk cache.
process.on("SIGTERM", () => fiber.unsafeInterruptAsFork(fiber.id()))
