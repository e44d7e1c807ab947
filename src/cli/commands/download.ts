/**
 * `textreveal download <task-id> [--out DIR] [--concurrency N] [--wait] [--overwrite]`: the task's files
 * on disk, intact, with their sha256.
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as path from "node:path"
import * as TaskResults from "../../TaskResults.js"
import { awaitTask } from "../awaitTask.js"
import * as Cli from "../command.js"
import * as Display from "../display.js"
import * as Flags from "../flags.js"
import { Stderr } from "../stderr.js"
import { Stdout } from "../stdout.js"

/** @internal */
export const command = Command.make(
  "download",
  {
    taskId: Flags.taskId,
    out: Options.text("out").pipe(
      Options.withAlias("o"),
      Options.withPseudoName("DIR"),
      Options.optional,
      Options.withDescription("The directory of the files, created when missing. Default: ./<task-id>.")
    ),
    concurrency: Flags.integer("concurrency", 1, 64).pipe(
      Options.withAlias("c"),
      Options.withDefault(4),
      Options.withDescription("Files fetched at once.")
    ),
    wait: Options.boolean("wait").pipe(
      Options.withDescription("Wait for the task to complete first (as `textreveal wait`).")
    ),
    overwrite: Options.boolean("overwrite").pipe(
      Options.withDescription("Fetch every file afresh, even those an earlier run completed.")
    ),
    ...Flags.common
  },
  (flags) => {
    const directory = path.resolve(Option.getOrElse(flags.out, () => flags.taskId))
    return Cli.run(
      flags,
      { taskId: flags.taskId, directory },
      Effect.scoped(Effect.gen(function*() {
        const stdout = yield* Stdout
        const stderr = yield* Stderr
        const results = yield* TaskResults.TaskResults
        const mode = Display.modeOf(stderr, flags.quiet)
        if (flags.wait) yield* awaitTask(flags.taskId, { mode })
        const display = yield* Display.download(stderr, mode)
        const files = yield* results.download(flags.taskId, {
          directory,
          concurrency: flags.concurrency,
          overwrite: flags.overwrite,
          onProgress: display.onProgress
        })
        yield* display.done(files)
        // The bars go before the output, so that a terminal shows the result alone.
        yield* stderr.clear
        if (flags.json) return yield* stdout.json(files)
        for (const file of files) yield* stdout.line(`${file.path}\t${file.bytes}\t${file.sha256}`)
      }))
    )
  }
).pipe(
  Command.withDescription("Download the task's files, verified and resumable; print path, bytes, sha256 of each.")
)
