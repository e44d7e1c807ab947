/**
 * `textreveal sandbox [--port N]`: the TextReveal sandbox on 127.0.0.1, with the lines that point
 * `textreveal` at it, until Ctrl-C.
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Sandbox from "../../sandbox/Sandbox.js"
import * as Cli from "../command.js"
import * as Flags from "../flags.js"
import { Stdout } from "../stdout.js"

/** The sandbox and its HTTP server, loaded only by this command. */
const module: Effect.Effect<typeof Sandbox> = Effect.promise(() => import("../../sandbox/Sandbox.js"))

/** @internal */
export const command = Command.make(
  "sandbox",
  {
    port: Flags.integer("port", 0, 65535).pipe(
      Options.withAlias("p"),
      Options.withDefault(8787),
      Options.withDescription("The port on 127.0.0.1 (0 takes a free one).")
    ),
    verbose: Flags.verbose
  },
  (flags) =>
    Cli.run(
      flags,
      {},
      Effect.gen(function*() {
        const stdout = yield* Stdout
        const sandbox = yield* (yield* module).Sandbox
        const demo = yield* sandbox.createTask({ description: "Demo entity export" })
        const running = yield* sandbox.createTask({
          description: "Demo export still running",
          startingFor: "30 seconds",
          runningFor: "2 minutes"
        })
        yield* stdout.write(
          [
            `# TextReveal sandbox at ${sandbox.baseUrl} (Ctrl-C stops it). Point textreveal at it:`,
            "unset TEXTREVEAL_TOKEN",
            `export TEXTREVEAL_BASE_URL=${sandbox.baseUrl}`,
            `export TEXTREVEAL_TOKEN_URL=${sandbox.tokenUrl}`,
            `export TEXTREVEAL_USERNAME=${sandbox.username}`,
            `export TEXTREVEAL_PASSWORD=${sandbox.password}`,
            "# A completed demo task:",
            `export TASK_ID=${demo}`,
            "# A task that completes in 2.5 minutes:",
            `export RUNNING_TASK_ID=${running}`,
            "# Then: textreveal download $TASK_ID",
            ""
          ].join("\n")
        )
        yield* stdout.flush
        return yield* Effect.never
      }).pipe(Effect.provide(Layer.unwrapEffect(Effect.map(module, (sandbox) => sandbox.layer({ port: flags.port })))))
    )
).pipe(
  Command.withDescription("Run a local TextReveal sandbox until Ctrl-C; print the lines that point textreveal at it.")
)
