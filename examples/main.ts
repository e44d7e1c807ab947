/**
 * The main job: start an export (or continue the one the directory records), wait for it, download its files
 * with progress, print each file's size and SHA-256, and the first rows. Given a task id, the same from the
 * wait on.
 *
 *   npm start                                                      # an export on the embedded sandbox
 *   TEXTREVEAL_TOKEN=... npm start -- <task-id>                    # a task of the TextReveal API
 *   TEXTREVEAL_USERNAME=... TEXTREVEAL_PASSWORD=... npm start -- <task-id>
 *
 * With no credentials and no task id, it runs against the sandbox. A task id without credentials, or only
 * half of a key/secret pair, is an error naming the variables to set.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FileSystem from "@effect/platform/FileSystem"
import { Credentials, TaskResults, TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/sandbox"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as path from "node:path"

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`

/** One progress line, redrawn in place on a terminal. */
const showProgress = (progress: TaskResults.Progress) =>
  Effect.sync(() => {
    if (!process.stderr.isTTY) return
    const total = progress.totalSize === undefined ? "" : ` of ${megabytes(progress.totalSize)}`
    process.stderr.write(`\r  ${megabytes(progress.totalBytes)}${total} (${progress.fileName})\x1b[K`)
  })

/** Each file's size and SHA-256, then the first rows of the task. */
const report = (taskId: string, files: ReadonlyArray<TaskResults.DownloadedFile>) =>
  Effect.gen(function*() {
    const results = yield* TaskResults.TaskResults
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K")
    for (const file of files) {
      yield* Console.log(
        `  ${file.fileName}  ${megabytes(file.bytes)}  sha256 ${file.sha256}${file.skipped ? "  (already there)" : ""}`
      )
    }
    yield* Console.log("First rows:")
    yield* results.rows(taskId).pipe(
      Stream.take(3),
      Stream.runForEach((row) => Console.log(`  ${JSON.stringify(row)}`))
    )
  })

const job = (taskId: string, directory: string) =>
  Effect.gen(function*() {
    const results = yield* TaskResults.TaskResults
    yield* Console.log(`Task ${taskId}: waiting for it to complete…`)
    yield* results.awaitCompletion(taskId, { timeout: "2 hours" })
    yield* Console.log(`Downloading into ${directory}`)
    const files = yield* results.download(taskId, { directory, onProgress: showProgress })
    yield* report(taskId, files)
  })

/** The library's counters, as `Metric.snapshot` gives them (see docs/client.md, Metrics). */
const printMetrics = Effect.gen(function*() {
  const lines: Array<string> = []
  for (const pair of yield* Metric.snapshot) {
    if (!pair.metricKey.name.startsWith("textreveal_") || !MetricState.isCounterState(pair.metricState)) continue
    const tags = pair.metricKey.tags.map((tag) => `${tag.key}=${tag.value}`).join(" ")
    lines.push(`  ${pair.metricKey.name}{${tags}} ${pair.metricState.count}`)
  }
  yield* Console.log(`Metrics:\n${lines.sort().join("\n")}`)
})

/** The whole job from the export on: start it, wait for it, download it, read its rows. */
const exportJob = (resource: string, body: Record<string, unknown>, directory: string) =>
  Effect.gen(function*() {
    const results = yield* TaskResults.TaskResults
    yield* Console.log(`Exporting ${resource} into ${directory}`)
    const { files, taskId } = yield* results.export({
      resource,
      body,
      directory,
      timeout: "2 hours",
      onStarted: ({ continued, taskId }) =>
        Console.log(`Task ${taskId}: ${continued ? "continued from the last run" : "started"}; waiting for it…`),
      onProgress: showProgress
    })
    yield* report(taskId, files)
  })

/** Against the sandbox: an export of two files, served on 127.0.0.1, into a directory removed at the end. */
const demo = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  yield* Console.log(`No TextReveal credentials set: running against the embedded sandbox at ${sandbox.baseUrl}`)
  const directory = yield* FileSystem.FileSystem.pipe(
    Effect.flatMap((fs) => fs.makeTempDirectoryScoped({ prefix: "textreveal-demo-" }))
  )
  yield* exportJob(
    "universes/7d1e2f3a-0000-4000-8000-000000000001/entities",
    { fields: ["entity_id", "name", "sentiment"] },
    path.join(directory, "entities")
  )
}).pipe(
  Effect.scoped,
  Effect.provide(
    TaskResults.layer().pipe(Layer.provideMerge(Sandbox.layerClient({
      exportTask: {
        description: "demo export",
        runningFor: "1 second",
        files: [{ name: "entities.csv", rows: 50_000 }, { name: "entities-2.csv", rows: 10_000 }]
      }
    })))
  )
)

/** Against the TextReveal API, with the credentials of the environment. */
const live = (taskId: string) =>
  job(taskId, path.resolve(taskId)).pipe(
    Effect.provide(
      TaskResults.layer().pipe(
        Layer.provideMerge(TextRevealClient.layerConfig),
        Layer.provide(Credentials.layerConfig)
      )
    )
  )

const anyCredential = Effect.map(
  Config.all([
    Config.option(Config.nonEmptyString("TEXTREVEAL_TOKEN")),
    Config.option(Config.nonEmptyString("TEXTREVEAL_USERNAME")),
    Config.option(Config.nonEmptyString("TEXTREVEAL_PASSWORD"))
  ]),
  (values) => values.some(Option.isSome)
)

const main = Effect.gen(function*() {
  const taskId = process.argv[2]
  // Any credential set, or a task id given, means the API: a half-set pair must not fall back to the demo.
  if (taskId === undefined && !(yield* anyCredential)) return yield* demo
  if (taskId === undefined) {
    return yield* Effect.fail(ConfigError.MissingData(["task id"], "Give the task id: npm start -- <task-id>"))
  }
  return yield* live(taskId)
}).pipe(
  Effect.zipRight(printMetrics)
).pipe(
  Effect.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer)),
  Effect.catchAll((error) =>
    Effect.zipRight(Console.error(`\n${String(error)}`), Effect.sync(() => process.exitCode = 1))
  )
)

NodeRuntime.runMain(main)
