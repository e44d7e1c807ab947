/**
 * The `ours` side of the download benchmark (`bench/download.ts`): `TaskResults.download` of the task's
 * files with `NodeHttpClient.layerUndici` and `NodeContext.layer`, in a child process of its own.
 *
 *   node download-ours.mjs <directory> <concurrency> <url>...
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TaskResults from "../src/TaskResults.js"
import * as TextRevealClient from "../src/TextRevealClient.js"
import { cpuSince, report, since } from "./children/report.js"
import { stubClient, taskId } from "./children/stubClient.js"

const [directory, concurrency, ...urls] = process.argv.slice(2) as [string, string, ...Array<string>]

const live = TaskResults.layer().pipe(
  Layer.provide(Layer.mergeAll(
    Layer.succeed(TextRevealClient.TextRevealClient, stubClient(urls)),
    NodeHttpClient.layerUndici,
    NodeContext.layer
  ))
)

const start = process.hrtime.bigint()
const cpuStart = process.cpuUsage()
const files = await Effect.runPromise(
  Effect.flatMap(
    TaskResults.TaskResults,
    (s) => s.download(taskId, { directory, overwrite: true, concurrency: Number(concurrency) })
  ).pipe(Effect.provide(live))
)
report({
  millis: since(start),
  runCpuMs: cpuSince(cpuStart),
  files: files.map((f) => ({ fileName: f.fileName, bytes: f.bytes, sha256: f.sha256 }))
})
