/**
 * `textreveal status <task-id>`: the task's current state.
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import * as TextRevealClient from "../../TextRevealClient.js"
import * as Cli from "../command.js"
import * as Flags from "../flags.js"
import { Stdout } from "../stdout.js"

/** @internal */
export const command = Command.make(
  "status",
  { taskId: Flags.taskId, ...Flags.common },
  (flags) =>
    Cli.run(
      flags,
      { taskId: flags.taskId },
      Effect.gen(function*() {
        const stdout = yield* Stdout
        const client = yield* TextRevealClient.TextRevealClient
        const status = yield* client.getTaskStatus(flags.taskId)
        yield* flags.json ? stdout.json({ taskId: flags.taskId, status }) : stdout.line(status)
      })
    )
).pipe(
  Command.withDescription("Print the task's status: starting, running, failed or completed.")
)
