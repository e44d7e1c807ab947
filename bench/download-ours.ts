/**
 * The `ours` side of `bench/download.ts`: `TaskResults.download` of one file with undici
 * (`NodeHttpClient.layerUndici`), in a child process of its own. Prints `RESULT {millis, maxRssMiB, sha256}`.
 *
 *   node download-ours.mjs <url> <directory>
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { DownloadUrl } from "../src/DownloadUrl.js"
import * as TaskResults from "../src/TaskResults.js"
import * as TextRevealClient from "../src/TextRevealClient.js"

const [url, directory] = process.argv.slice(2) as [string, string]

const client = TextRevealClient.TextRevealClient.of({
  getDownloadUrls: () =>
    Effect.map(DateTime.now, (now) => [
      new DownloadUrl({ url, fileName: "export.csv", expiresAt: DateTime.addDuration(now, Duration.minutes(5)) })
    ]),
  getTaskStatus: () => Effect.succeed("completed" as const),
  listTasks: () => Stream.empty
})

const live = TaskResults.layer().pipe(
  Layer.provide(Layer.mergeAll(
    Layer.succeed(TextRevealClient.TextRevealClient, client),
    NodeHttpClient.layerUndici,
    NodeContext.layer
  ))
)

const start = process.hrtime.bigint()
Effect.runPromise(
  Effect.flatMap(
    TaskResults.TaskResults,
    (s) => s.download("f47ac10b-58cc-4372-a567-0e02b2c3d479", { directory, overwrite: true })
  ).pipe(Effect.provide(live))
).then((files) => {
  const millis = Number(process.hrtime.bigint() - start) / 1e6
  const measure = { millis, maxRssMiB: process.resourceUsage().maxRSS / 1024, sha256: files[0]!.sha256 }
  process.stdout.write(`RESULT ${JSON.stringify(measure)}\n`)
})
