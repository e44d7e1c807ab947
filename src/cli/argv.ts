/**
 * What the command line asks before any command is parsed: help (`--help`, `-h`, `help [command]`), the
 * version (`--version`, `-V`), and the mistakes `@effect/cli` would misname: an unknown option before the
 * command (it reports an invalid subcommand), an unknown command, `--wizard` without a terminal (it would
 * wait for answers that never come). Everything else goes to `@effect/cli`.
 *
 * Pure and free of Effect, so that `--help` and `--version` start fast.
 *
 * @internal
 */
import { libraryVersion } from "../internal/version.js"
import * as Help from "./help.js"

/** @internal */
export type Action =
  /** Print `text` on stdout, exit 0. */
  | { readonly _tag: "Print"; readonly text: string }
  /** Print the lines on stderr, exit 2. */
  | { readonly _tag: "Usage"; readonly lines: ReadonlyArray<string> }
  /** Parse and run the command. */
  | { readonly _tag: "Run" }

/** What the process is run in: the width of stdout and whether stdin is a terminal. */
export interface Terminal {
  /** The width of stdout in columns, when it is a terminal. */
  readonly columns: number | undefined
  readonly stdinIsTerminal: boolean
}

/** Built-in options that take a value, accepted before the command. */
const builtInsWithValue = new Set(["--completions", "--log-level"])

const helpHint = "Run `textreveal help` for the commands, `textreveal help <command>` for one's options."

const usage = (message: string, hint: string = helpHint): Action => ({
  _tag: "Usage",
  lines: [`textreveal: ${message}`, hint]
})

const print = (text: string): Action => ({ _tag: "Print", text })

/** The width help is wrapped to: the terminal's, 80 when stdout is not one (a pipe, a file). */
const columnsOf = (terminal: Terminal) =>
  terminal.columns !== undefined && terminal.columns > 0 ? Math.max(40, terminal.columns) : 80

const isHelp = (arg: string) => arg === "--help" || arg === "-h"

const helpOf = (name: string | undefined, terminal: Terminal): Action => {
  if (name === undefined) return print(Help.root(columnsOf(terminal)))
  const spec = Help.find(name)
  return spec === undefined ? unknownCommand(name) : print(Help.command(spec, columnsOf(terminal)))
}

const unknownCommand = (name: string): Action =>
  usage(`unknown command '${name}'. The commands are ${Help.commandNames.join(", ")}.`)

/**
 * Decides what to do with the arguments (those after `node textreveal.mjs`).
 *
 * @internal
 */
export const decide = (args: ReadonlyArray<string>, terminal: Terminal): Action => {
  const end = args.indexOf("--")
  const options = end === -1 ? args : args.slice(0, end)
  if (options.includes("--wizard") && !terminal.stdinIsTerminal) {
    return usage("--wizard asks its questions on a terminal, and stdin is not one.", helpHint)
  }
  // The arguments before the command: only built-in options may come there.
  let at = 0
  while (at < args.length && args[at]!.startsWith("-") && args[at] !== "--") {
    const arg = args[at]!
    const name = arg.split("=")[0]!
    if (isHelp(arg)) return helpOf(undefined, terminal)
    if (arg === "--version" || arg === "-V") return print(`${libraryVersion}\n`)
    if (builtInsWithValue.has(name)) at += arg.includes("=") ? 1 : 2
    else if (arg === "--wizard") at += 1
    else {
      return usage(
        `unknown option ${name}. Options go after the command: textreveal <command> [options].`
      )
    }
  }
  const name = args[at]
  if (name === undefined) {
    return at === 0 ? usage(`a command is required: ${Help.commandNames.join(", ")}.`) : { _tag: "Run" }
  }
  if (name === "help") return helpOf(args[at + 1], terminal)
  if (Help.find(name) === undefined) return unknownCommand(name)
  if (options.slice(at + 1).some(isHelp)) return helpOf(name, terminal)
  return { _tag: "Run" }
}
