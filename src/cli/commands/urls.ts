/**
 * `textreveal urls <task-id>`: the signed URLs of the task's files.
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as TextRevealClient from "../../TextRevealClient.js"
import * as Cli from "../command.js"
import * as Flags from "../flags.js"
import { Stdout } from "../stdout.js"

/** @internal */
export const command = Command.make(
  "urls",
  { taskId: Flags.taskId, ...Flags.common },
  (flags) =>
    Cli.run(
      flags,
      { taskId: flags.taskId },
      Effect.gen(function*() {
        const stdout = yield* Stdout
        const client = yield* TextRevealClient.TextRevealClient
        const urls = yield* client.getDownloadUrls(flags.taskId)
        if (flags.json) {
          return yield* stdout.json(urls.map((url) => ({
            fileName: url.fileName,
            url: url.url,
            expiresAt: DateTime.formatIso(url.expiresAt)
          })))
        }
        for (const url of urls) yield* stdout.line(url.url)
      })
    )
).pipe(
  Command.withDescription("Print the signed URLs of the task's files, one per line (valid 5 minutes).")
)
