/**
 * The `textreveal` program once the arguments ask for a command: `@effect/cli` parses them and runs it, with
 * its own logger on stderr (stdout carries the output only) and an exit code for every outcome (see
 * `exitCodes.ts`). `main.ts` loads this module only when help and the version were not asked for.
 *
 * @internal
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { cli } from "./app.js"
import * as Argv from "./argv.js"
import { report } from "./command.js"
import * as Console from "./console.js"
import { ExitCode } from "./exitCodes.js"
import * as Logger from "./logger.js"
import * as Stderr from "./stderr.js"
import * as Stdout from "./stdout.js"

/**
 * Runs the command line on `args` (without `node` and the script) and gives the exit code: help, usage
 * errors and every failure are printed and end in a code; only an interruption stays one.
 *
 * @internal
 */
export const program = (args: ReadonlyArray<string>, terminal: Argv.Terminal) =>
  Effect.gen(function*() {
    const action = Argv.decide(args, terminal)
    const stdout = yield* Stdout.Stdout
    const stderr = yield* Stderr.Stderr
    switch (action._tag) {
      case "Print":
        yield* Effect.ignore(stdout.write(action.text))
        return ExitCode.Success as number
      case "Usage":
        for (const line of action.lines) yield* stderr.line(line)
        return ExitCode.Usage
      case "Run":
        return yield* cli(["node", "textreveal", ...args]).pipe(
          Effect.as(ExitCode.Success as number),
          Effect.catchTag("Exited", (exited) => Effect.succeed(exited.code)),
          // What is left failed before a command ran (usage errors, printed by @effect/cli) or is a bug.
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : report(cause)
          ),
          Effect.provide(Layer.mergeAll(Console.layer, Logger.layer))
        )
    }
  }).pipe(Effect.ensuring(Effect.flatMap(Stdout.Stdout, (stdout) => stdout.flush)))

/**
 * Runs the program on `process.argv` with Node's streams, and exits with its code: 130 for Ctrl-C (SIGINT),
 * 143 for SIGTERM.
 *
 * @internal
 */
export const main = () => {
  let terminated = false
  process.once("SIGTERM", () => {
    terminated = true
  })
  const io = Layer.mergeAll(Stdout.layer, Stderr.layer, NodeContext.layer)
  const terminal: Argv.Terminal = {
    columns: process.stdout.isTTY === true ? process.stdout.columns : undefined,
    stdinIsTerminal: process.stdin.isTTY === true
  }
  NodeRuntime.runMain(program(process.argv.slice(2), terminal).pipe(Effect.provide(io)), {
    disablePrettyLogger: true,
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit)
          ? exit.value as number
          : Cause.isInterruptedOnly(exit.cause)
          ? (terminated ? ExitCode.Terminated : ExitCode.Interrupted)
          : ExitCode.Unexpected
      )
  })
}
