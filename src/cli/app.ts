/**
 * The `textreveal` command and its subcommands, as `@effect/cli` parses them. The commands that call the API
 * get its layers here, once (`withApi`): a handler only asks for `TextRevealClient` or `TaskResults`. Help
 * is not `@effect/cli`'s: `argv.ts` answers it from `help.ts`.
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import { libraryVersion } from "../internal/version.js"
import { UsageError } from "./command.js"
import * as Download from "./commands/download.js"
import * as Export from "./commands/export.js"
import * as Rows from "./commands/rows.js"
import * as Sandbox from "./commands/sandbox.js"
import * as Status from "./commands/status.js"
import * as Tasks from "./commands/tasks.js"
import * as Urls from "./commands/urls.js"
import * as Wait from "./commands/wait.js"
import { commandNames } from "./help.js"
import * as Layers from "./layers.js"

/**
 * Gives a command the API's layers (`TaskResults`, `TextRevealClient`), built from the `TEXTREVEAL_*`
 * variables when the command runs, after its arguments are parsed. A configuration error ends it with
 * exit code 3.
 *
 * @internal
 */
export const withApi = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>) =>
  Command.provide(command, Layers.api)

const root = Command.make(
  "textreveal",
  {},
  () => new UsageError({ message: `a command is required: ${commandNames.join(", ")}.` })
).pipe(
  Command.withSubcommands([
    withApi(Status.command),
    withApi(Wait.command),
    withApi(Urls.command),
    withApi(Download.command),
    withApi(Export.command),
    withApi(Rows.command),
    withApi(Tasks.command),
    Sandbox.command
  ])
)

/**
 * Parses `argv` (`node`, the script, then the arguments) and runs the command it names.
 *
 * @internal
 */
export const cli = Command.run(root, { name: "textreveal", version: libraryVersion })
