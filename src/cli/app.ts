/**
 * The `textreveal` command: its subcommands, and the help's footer (environment and exit codes).
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
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
import * as ExitCodes from "./exitCodes.js"

const commandNames = "urls, status, wait, download, export, rows, tasks or sandbox"

const root = Command.make(
  "textreveal",
  {},
  () => new UsageError({ message: `a command is required: ${commandNames}.` })
).pipe(
  Command.withDescription(
    "Export TextReveal task results from a shell: wait for a task, download its files, read its rows."
  ),
  Command.withSubcommands([
    Urls.command,
    Status.command,
    Wait.command,
    Download.command,
    Export.command,
    Rows.command,
    Tasks.command,
    Sandbox.command
  ])
)

/**
 * A table as one paragraph of lines aligned by hand: description lists cost the help renderer more than all
 * the rest of the help (a cold start pays for it).
 */
const rows = (entries: ReadonlyArray<readonly [string, string]>): HelpDoc.HelpDoc => {
  const width = Math.max(...entries.map(([term]) => term.length)) + 2
  return HelpDoc.p(entries.map(([term, description]) => `  ${term.padEnd(width)}${description}`).join("\n"))
}

const footer = HelpDoc.blocks([
  HelpDoc.h1("ENVIRONMENT"),
  rows([
    ["TEXTREVEAL_TOKEN", "a bearer token (fixed; not renewed)"],
    ["TEXTREVEAL_USERNAME", "the API key, with TEXTREVEAL_PASSWORD (the secret) when no token is set:"],
    ["", "tokens are obtained and renewed"],
    ["TEXTREVEAL_TOKEN_URL", "the token endpoint (default https://login.textreveal.com/oauth/token)"],
    ["TEXTREVEAL_BASE_URL", "the API (default https://api.textreveal.com/v3)"],
    ["NO_COLOR", "no colours on a terminal"]
  ]),
  HelpDoc.h1("EXIT CODES"),
  rows(ExitCodes.table.map(([code, when]) => [String(code), when] as const))
])

/**
 * Runs the command line on `process.argv`.
 *
 * @internal
 */
export const cli = Command.run(root, {
  name: "textreveal",
  version: libraryVersion,
  footer
})
