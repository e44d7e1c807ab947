/**
 * The help of `textreveal` and of each command: usage, what each option does and its default, examples,
 * wrapped to the terminal's width (80 columns when stdout is not a terminal). The built-in options
 * (`--version`, `--completions`, `--log-level`, `--wizard`) are listed once, in the top-level help.
 *
 * Plain data and string functions: `--help` is answered without loading Effect (a cold start pays for nothing
 * else). `test/cli.handlers.test.ts` checks that each command's options are those `@effect/cli` parses.
 *
 * @internal
 */
import stringWidth from "string-width"
import { libraryVersion } from "../internal/version.js"
import * as ExitCodes from "./exitCodes.js"

/** @internal */
export interface Option {
  /** `-o, --out DIR`. */
  readonly flags: string
  readonly description: string
  /** What applies when the option is not given; omitted for a flag that is off unless given. */
  readonly default?: string | undefined
}

/** @internal */
export interface Command {
  readonly name: string
  /** After `textreveal <name>`: `<task-id> [options]`. */
  readonly usage: string
  /** One line, for the list of commands. */
  readonly summary: string
  /** What the command prints, beyond the summary. */
  readonly about: ReadonlyArray<string>
  readonly args: ReadonlyArray<readonly [name: string, description: string]>
  readonly options: ReadonlyArray<Option>
  readonly examples: ReadonlyArray<string>
}

const id = "2f1a0c3e-6b7d-4e8f-9a0b-1c2d3e4f5a6b"

const taskIdArg = ["<task-id>", "the task's id, a UUID (any case)"] as const

const json = (shape: string): Option => ({ flags: "--json", description: `print JSON on stdout: ${shape}` })
const quiet: Option = { flags: "-q, --quiet", description: "no progress on stderr (errors are still printed)" }
const verbose: Option = {
  flags: "-v, --verbose",
  description: "log retries and token renewals on stderr (never a secret)"
}
const help: Option = { flags: "-h, --help", description: "print this help" }

/**
 * Every command, in the order of the top-level help.
 *
 * @internal
 */
export const commands: ReadonlyArray<Command> = [
  {
    name: "status",
    usage: "<task-id> [options]",
    summary: "print the task's status",
    about: ["Prints starting, running, failed or completed."],
    args: [taskIdArg],
    options: [json("an object {taskId, status}"), quiet, verbose, help],
    examples: [`textreveal status ${id}`]
  },
  {
    name: "wait",
    usage: "<task-id> [options]",
    summary: "wait until the task is completed",
    about: [
      "Polls the task until it is completed, then prints its final status. A failed task prints failed and",
      "exits 6; a timeout exits 7."
    ],
    args: [taskIdArg],
    options: [
      {
        flags: "--timeout DURATION",
        description: "give up after this long: 90s, 5m, 2h, 1h30m",
        default: "no limit"
      },
      json("an object {taskId, status}"),
      quiet,
      verbose,
      help
    ],
    examples: [`textreveal wait ${id} --timeout 2h`]
  },
  {
    name: "urls",
    usage: "<task-id> [options]",
    summary: "print the signed URLs of the task's files",
    about: ["One URL per line, each valid for 5 minutes."],
    args: [taskIdArg],
    options: [json("an array of {fileName, url, expiresAt}"), quiet, verbose, help],
    examples: [`textreveal urls ${id}`, `textreveal urls ${id} --json`]
  },
  {
    name: "download",
    usage: "<task-id> [options]",
    summary: "download the task's files, verified and resumable",
    about: [
      "Prints a line per file: path, bytes, sha256 (tab-separated). A file is written under a temporary name",
      "(.<name>.part) and renamed once verified; a re-run skips complete files and resumes partial ones."
    ],
    args: [taskIdArg],
    options: [
      {
        flags: "-o, --out DIR",
        description: "the directory of the files, created when missing",
        default: "./<task-id>"
      },
      { flags: "-c, --concurrency N", description: "files fetched at once, 1 to 64", default: "4" },
      { flags: "--wait", description: "wait for the task to complete first (as `textreveal wait`)" },
      { flags: "--overwrite", description: "fetch every file afresh, even those already complete" },
      json("an array of {fileName, path, bytes, sha256, skipped}"),
      quiet,
      verbose,
      help
    ],
    examples: [`textreveal download ${id} --out exports`, `textreveal download "$TASK_ID" --wait --json > files.json`]
  },
  {
    name: "export",
    usage: "<resource> [options]",
    summary: "start an export, wait for it and download its files",
    about: [
      "Starts an export (or continues the one --out records), prints its task id, waits for it and downloads",
      "its files as download does."
    ],
    args: [["<resource>", "the path between /v3/ and /export, e.g. universes/<id>/entities"]],
    options: [
      { flags: "--body JSON", description: "the export's JSON body, inline or @file.json", default: "{}" },
      {
        flags: "-o, --out DIR",
        description: "the directory of the files, created when missing; the same request continues its export",
        default: "./<task-id>"
      },
      { flags: "--no-download", description: "only start the export and print its task id" },
      {
        flags: "--wait-for-slot DURATION",
        description: "how long to wait while another export runs; 0 fails at once (exit 5)",
        default: "2h"
      },
      json("the export's task id and files"),
      quiet,
      verbose,
      help
    ],
    examples: [
      "textreveal export universes/<id>/entities --out exports",
      "textreveal export universes/<id>/entities --no-download --json"
    ]
  },
  {
    name: "rows",
    usage: "<task-id> [options]",
    summary: "print the records of the task's CSV files",
    about: ["Reads the files as they download, without writing them to disk."],
    args: [taskIdArg],
    options: [
      {
        flags: "-f, --format FORMAT",
        description: "jsonl: one JSON object per line; csv: one header, then the records",
        default: "jsonl"
      },
      { flags: "--limit N", description: "stop after this many records", default: "all" },
      json("the same as --format jsonl (JSON Lines)"),
      quiet,
      verbose,
      help
    ],
    examples: [`textreveal rows ${id} --limit 10`, `textreveal rows ${id} --format csv > all.csv`]
  },
  {
    name: "tasks",
    usage: "[options]",
    summary: "list the tasks of the account",
    about: ["One line per task: id, status, created, description (a header row on a terminal)."],
    args: [],
    options: [
      { flags: "--size N", description: "tasks fetched per page, 1 to 1000", default: "100" },
      { flags: "--limit N", description: "stop after this many tasks", default: "all" },
      json("an array of tasks, as the API gives them"),
      quiet,
      verbose,
      help
    ],
    examples: ["textreveal tasks --limit 20", "textreveal tasks --json | jq -r '.[].id'"]
  },
  {
    name: "sandbox",
    usage: "[options]",
    summary: "run a local TextReveal sandbox until Ctrl-C",
    about: [
      "Prints the export lines that point textreveal at it, and the ids of a completed and a running demo task."
    ],
    args: [],
    options: [
      { flags: "-p, --port N", description: "the port on 127.0.0.1 (0 takes a free one)", default: "8787" },
      verbose,
      help
    ],
    examples: ["textreveal sandbox", "textreveal sandbox --port 0"]
  }
]

/** @internal */
export const commandNames: ReadonlyArray<string> = commands.map((command) => command.name)

/**
 * The built-in options of `@effect/cli`, as the top-level help lists them.
 *
 * @internal
 */
export const builtIns: ReadonlyArray<Option> = [
  { flags: "-h, --help", description: "print this help (after a command: that command's)" },
  { flags: "-V, --version", description: "print the version" },
  { flags: "--completions SHELL", description: "print a completion script for bash, zsh or fish" },
  { flags: "--log-level LEVEL", description: "log from this level up", default: "error" },
  { flags: "--wizard", description: "build a command by answering questions" }
]

const environment: ReadonlyArray<readonly [string, string]> = [
  ["TEXTREVEAL_TOKEN", "a bearer token (used as is, never renewed)"],
  ["TEXTREVEAL_USERNAME", "the API key; TEXTREVEAL_PASSWORD, its secret (tokens renewed)"],
  ["TEXTREVEAL_TOKEN_URL", "default https://login.textreveal.com/oauth/token"],
  ["TEXTREVEAL_BASE_URL", "default https://api.textreveal.com/v3"],
  ["NO_COLOR", "no colours on a terminal"]
]

/**
 * The width of text in terminal columns: wide characters (CJK, emoji) take two, escape sequences none.
 *
 * @internal
 */
export const width = (text: string): number => stringWidth(text)

/**
 * Words joined into lines of at most `columns` columns (a word longer than that gets a line of its own).
 *
 * @internal
 */
export const wrap = (text: string, columns: number): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((word) => word !== "")) {
    if (line === "") line = word
    else if (width(line) + 1 + width(word) <= columns) line += ` ${word}`
    else {
      lines.push(line)
      line = word
    }
  }
  if (line !== "") lines.push(line)
  return lines
}

/** A two-column table: terms padded to one width, descriptions wrapped beside them. */
const table = (rows: ReadonlyArray<readonly [string, string]>, columns: number): Array<string> => {
  const termWidth = Math.min(Math.max(...rows.map(([term]) => width(term))) + 2, 26)
  const indent = 2 + termWidth
  const room = Math.max(20, columns - indent)
  return rows.flatMap(([term, description]) => {
    const wrapped = wrap(description, room)
    const first = width(term) + 2 <= termWidth
      ? [`  ${term}${" ".repeat(termWidth - width(term))}${wrapped[0] ?? ""}`]
      : [`  ${term}`, `${" ".repeat(indent)}${wrapped[0] ?? ""}`]
    return [...first, ...wrapped.slice(1).map((line) => `${" ".repeat(indent)}${line}`)]
  })
}

const optionRows = (options: ReadonlyArray<Option>) =>
  options.map((option) =>
    [
      option.flags.startsWith("--") ? `    ${option.flags}` : option.flags,
      option.default === undefined ? option.description : `${option.description} (default: ${option.default})`
    ] as const
  )

const paragraph = (lines: ReadonlyArray<string>, columns: number) => wrap(lines.join(" "), columns)

/** A line longer than the width (an example) is cut, with `…`: the help never wraps in the terminal. */
const fit = (line: string, columns: number): string => {
  if (width(line) <= columns) return line
  let out = ""
  for (const character of line) {
    if (width(out) + width(character) > columns - 1) break
    out += character
  }
  return `${out}…`
}

/**
 * The top-level help: commands, built-in options, environment and exit codes.
 *
 * @internal
 */
export const root = (columns: number): string =>
  [
    `textreveal ${libraryVersion}: export TextReveal task results from a shell.`,
    "",
    "Usage: textreveal <command> [options]      textreveal help [command]",
    "",
    "Commands:",
    ...table(commands.map((command) => [command.name, command.summary] as const), columns),
    "",
    "Options of every command:",
    ...table(optionRows(builtIns), columns),
    "",
    "Environment:",
    ...table(environment, columns),
    "",
    "Exit codes:",
    ...table(ExitCodes.short.map(([code, when]) => [String(code), when] as const), columns)
  ].map((line) => fit(line, columns)).join("\n") + "\n"

/**
 * The help of one command.
 *
 * @internal
 */
export const command = (spec: Command, columns: number): string =>
  [
    `Usage: textreveal ${spec.name} ${spec.usage}`,
    "",
    ...paragraph([`${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`, ...spec.about], columns),
    ...(spec.args.length === 0 ? [] : ["", "Arguments:", ...table(spec.args, columns)]),
    "",
    "Options:",
    ...table(optionRows(spec.options), columns),
    "",
    "Examples:",
    ...spec.examples.map((example) => `  ${example}`),
    "",
    "Environment, exit codes and built-in options: textreveal help"
  ].map((line) => fit(line, columns)).join("\n") + "\n"

/**
 * The spec of a command, by name.
 *
 * @internal
 */
export const find = (name: string): Command | undefined => commands.find((command) => command.name === name)
