/**
 * The `textreveal` bin: the command line on `NodeRuntime`, with its own logger on stderr (stdout carries
 * the output only) and an exit code for every outcome (see `exitCodes.ts`).
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
import { report } from "./command.js"
import * as Console from "./console.js"
import { ExitCode } from "./exitCodes.js"
import * as Logger from "./logger.js"
import * as Stderr from "./stderr.js"
import * as Stdout from "./stdout.js"

const io = Layer.mergeAll(Console.layer, Logger.layer).pipe(
  Layer.provideMerge(Layer.merge(Stdout.layer, Stderr.layer)),
  Layer.merge(NodeContext.layer)
)

const program = Effect.suspend(() => cli(process.argv)).pipe(
  Effect.as(ExitCode.Success as number),
  Effect.catchTag("Exited", (exited) => Effect.succeed(exited.code)),
  // What is left failed before a command ran (usage errors, printed by @effect/cli) or is a bug.
  Effect.catchAllCause((cause) =>
    Cause.isInterruptedOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : report(cause)
  ),
  Effect.tap(() => Effect.flatMap(Stdout.Stdout, (stdout) => stdout.flush)),
  Effect.provide(io)
)

NodeRuntime.runMain(program, {
  disablePrettyLogger: true,
  disableErrorReporting: true,
  teardown: (exit, onExit) =>
    onExit(
      Exit.isSuccess(exit)
        ? (typeof exit.value === "number" ? exit.value : ExitCode.Success)
        : Cause.isInterruptedOnly(exit.cause)
        ? ExitCode.Interrupted
        : ExitCode.Unexpected
    )
})
