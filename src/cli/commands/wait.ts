/**
 * `textreveal wait <task-id> [--timeout DURATION]`: polls the task until it is completed.
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Task from "../../Task.js"
import { awaitTask } from "../awaitTask.js"
import * as Cli from "../command.js"
import * as Display from "../display.js"
import * as Flags from "../flags.js"
import { Stderr } from "../stderr.js"
import { Stdout } from "../stdout.js"

/** @internal */
export const command = Command.make(
  "wait",
  {
    taskId: Flags.taskId,
    timeout: Flags.duration("timeout").pipe(
      Options.optional,
      Options.withDescription("Give up after this long (90s, 5m, 2h, 1h30m) with exit code 7. Default: no limit.")
    ),
    ...Flags.common
  },
  (flags) =>
    Cli.run(
      flags,
      { taskId: flags.taskId },
      Effect.gen(function*() {
        const stdout = yield* Stdout
        const mode = Display.modeOf(yield* Stderr, flags.quiet)
        const print = (status: Task.TaskStatus) =>
          flags.json ? stdout.json({ taskId: flags.taskId, status }) : stdout.line(status)
        yield* awaitTask(flags.taskId, { mode, timeout: Option.getOrUndefined(flags.timeout) }).pipe(
          // A failed task is a final status too: printed, then exit code 6.
          Effect.tapErrorTag("TaskFailed", () => print("failed"))
        )
        yield* print("completed")
      })
    )
).pipe(
  Command.withDescription("Wait until the task is completed, then print its final status.")
)
