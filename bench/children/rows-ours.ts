/**
 * The `ours` side of the rows benchmark: every record of `TaskResults.rows` (one CSV file, over HTTP with
 * `NodeHttpClient.layerUndici`), counted.
 *
 *   node rows-ours.mjs <url>
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TaskResults from "../../src/TaskResults.js"
import * as TextRevealClient from "../../src/TextRevealClient.js"
import { report, since } from "./report.js"
import { stubClient, taskId } from "./stubClient.js"

const url = process.argv[2]!

const live = TaskResults.layer().pipe(
  Layer.provide(Layer.mergeAll(
    Layer.succeed(TextRevealClient.TextRevealClient, stubClient([url])),
    NodeHttpClient.layerUndici,
    NodeContext.layer
  ))
)

const start = process.hrtime.bigint()
const records = await Effect.runPromise(
  Effect.flatMap(TaskResults.TaskResults, (s) => Stream.runCount(s.rows(taskId))).pipe(Effect.provide(live))
)
report({ millis: since(start), records })
