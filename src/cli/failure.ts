/**
 * What went wrong, for a person and for a script: every expected failure becomes an exit code and one or two
 * lines for stderr (what happened, then what to do). Pure: nothing is printed here.
 *
 * @internal
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import { ExitCode } from "./exitCodes.js"

/**
 * An exit code and the lines that explain it (none for a success or a usage error `@effect/cli` already
 * printed).
 *
 * @internal
 */
export interface Failure {
  readonly code: ExitCode
  readonly lines: ReadonlyArray<string>
}

/**
 * What the command was about, to name it in the message.
 *
 * @internal
 */
export interface Context {
  readonly taskId?: string | undefined
  /** The download directory, for disk errors and the resume hint. */
  readonly directory?: string | undefined
}

const prefix = "textreveal: "

const fail = (code: ExitCode, what: string, todo?: string): Failure => ({
  code,
  lines: todo === undefined ? [`${prefix}${what}`] : [`${prefix}${what}`, todo]
})

const variables = "TEXTREVEAL_TOKEN, or TEXTREVEAL_USERNAME and TEXTREVEAL_PASSWORD (+ TEXTREVEAL_TOKEN_URL)"

/** The library names its options; the command line reads them from these variables. */
const optionVariables: Record<string, string> = {
  baseUrl: "TEXTREVEAL_BASE_URL",
  tokenUrl: "TEXTREVEAL_TOKEN_URL",
  token: "TEXTREVEAL_TOKEN"
}

const configMessages = (error: ConfigError.ConfigError): ReadonlyArray<string> =>
  ConfigError.reduceWithContext(error, undefined, {
    andCase: (_, left, right) => [...left, ...right],
    orCase: (_, left, right) => [...left, ...right],
    invalidDataCase: (_, path, message) => [renameOption(path, message)],
    missingDataCase: (_, path, message) => [renameOption(path, message)],
    sourceUnavailableCase: (_, path, message) => [renameOption(path, message)],
    unsupportedCase: (_, path, message) => [renameOption(path, message)]
  })

const renameOption = (path: ReadonlyArray<string>, message: string): string => {
  const option = path.length === 1 ? path[0]! : undefined
  const variable = option === undefined ? undefined : optionVariables[option]
  if (variable === undefined) return message
  return message.startsWith(`${option} `) ? `${variable}${message.slice(option!.length)}` : `${variable}: ${message}`
}

/** `1h 2m 3s` → `1h 2m 3s`, `1500ms` → `2s` (a person does not need the milliseconds). */
const human = (duration: Duration.Duration): string => {
  const seconds = Math.ceil(Duration.toMillis(duration) / 1000)
  return Duration.format(Duration.seconds(seconds))
}

const task = (context: Context) => context.taskId === undefined ? "the task" : `task ${context.taskId}`

const field = <A>(error: unknown, name: string, guard: (u: unknown) => u is A): A | undefined =>
  Predicate.hasProperty(error, name) && guard(error[name]) ? error[name] : undefined

const messageOf = (error: unknown): string => {
  const message = field(error, "message", Predicate.isString)
  return message === undefined || message === "" ? String(error) : message
}

const notFinished = (context: Context): Failure =>
  fail(
    ExitCode.NotCompleted,
    `${task(context)} is not finished yet.`,
    `Wait for it with \`textreveal wait ${context.taskId ?? "<task-id>"}\`, or add --wait to download.`
  )

const taskFailed = (context: Context): Failure =>
  fail(ExitCode.TaskFailed, `${task(context)} failed: its results will never come.`, "Start a new export.")

const resumeHint = (context: Context) =>
  context.directory === undefined
    ? "Run the same command again."
    : "Run the same command again: complete files are kept, partial ones resume."

/**
 * The exit code and lines for a failure of a command (any error the library's operations, the layers or the
 * command line can fail with).
 *
 * @internal
 */
export const describe = (error: unknown, context: Context = {}): Failure => {
  if (ValidationError.isValidationError(error)) {
    // `@effect/cli` has printed what was wrong.
    return { code: ExitCode.Usage, lines: ["Run `textreveal --help`, or `textreveal <command> --help`, for usage."] }
  }
  if (ConfigError.isConfigError(error)) {
    const messages = configMessages(error)
    return {
      code: ExitCode.Credentials,
      lines: [
        ...messages.map((message) => `${prefix}${message}`),
        `textreveal reads ${variables}, and TEXTREVEAL_BASE_URL.`
      ]
    }
  }
  const tag = field(error, "_tag", Predicate.isString)
  switch (tag) {
    case "StdoutClosed":
      return { code: ExitCode.Success, lines: [] }
    case "UsageError":
      return fail(ExitCode.Usage, messageOf(error), "Run `textreveal --help` for usage.")
    case "Invalid": {
      const invalid = error as { readonly taskNotCompleted: boolean; readonly taskFailed: boolean }
      if (invalid.taskNotCompleted) return notFinished(context)
      if (invalid.taskFailed) return taskFailed(context)
      return fail(ExitCode.Usage, `TextReveal refused the request: ${messageOf(error)}`, "Check the arguments.")
    }
    case "Unauthorized":
      return fail(
        ExitCode.Credentials,
        `TextReveal refused the credentials: ${messageOf(error)}`,
        `Check ${variables}; a copied token may have expired.`
      )
    case "Forbidden":
      return fail(
        ExitCode.Access,
        `TextReveal forbids access to ${task(context)}: ${messageOf(error)}`,
        "It belongs to another account, or these credentials may not read it."
      )
    case "NotFound":
      return fail(
        ExitCode.Access,
        `TextReveal has no ${task(context)}: ${messageOf(error)}`,
        "Check the id; `textreveal tasks` lists the tasks these credentials can see."
      )
    case "TooManyRequests": {
      const attempts = field(error, "attempts", Predicate.isNumber)
      const retryAfter = field(error, "retryAfter", Duration.isDuration)
      return fail(
        ExitCode.RateLimited,
        `TextReveal is still rate limiting${attempts === undefined ? "" : ` after ${attempts} attempts`}: ${
          messageOf(error)
        }`,
        retryAfter === undefined
          ? "Try again in a few minutes; fewer exports at once help."
          : `Try again in ${human(retryAfter)} or later.`
      )
    }
    case "ServerError": {
      const attempts = field(error, "attempts", Predicate.isNumber)
      return fail(
        ExitCode.Unavailable,
        `TextReveal kept failing${attempts === undefined ? "" : ` (${attempts} attempts)`}: ${messageOf(error)}`,
        "The trouble is on the service's side: try again in a few minutes."
      )
    }
    case "RequestError":
      return fail(
        ExitCode.Unavailable,
        `could not get an answer from TextReveal: ${messageOf(error)}`,
        "Check the network, TEXTREVEAL_BASE_URL and TEXTREVEAL_TOKEN_URL, then try again."
      )
    case "ResponseError":
      return fail(
        ExitCode.Unavailable,
        `TextReveal answered something unexpected: ${messageOf(error)}`,
        "Try again; if it persists, report it with the output of --verbose."
      )
    case "DownloadError": {
      const fileName = field(error, "fileName", Predicate.isString) ?? "a file"
      return fail(ExitCode.Unavailable, `${fileName} could not be downloaded: ${messageOf(error)}`, resumeHint(context))
    }
    case "DeadlineExceeded":
      return fail(ExitCode.Unavailable, messageOf(error), resumeHint(context))
    case "TaskFailed":
      return taskFailed(context)
    case "WaitTimeout": {
      const status = field(error, "status", Predicate.isString)
      return fail(
        ExitCode.NotCompleted,
        `${task(context)} was not completed in time (last status: ${status ?? "none received"}).`,
        "Wait longer with --timeout, or run `textreveal wait` again later."
      )
    }
    case "RowError": {
      const fileName = field(error, "fileName", Predicate.isString) ?? "a file"
      const line = field(error, "line", Predicate.isNumber)
      return fail(
        ExitCode.Unavailable,
        `${fileName}${line === undefined ? "" : `, line ${line}`}: ${messageOf(error)}`,
        "The file holds a record that is not valid CSV; `textreveal download` gets the file as it is."
      )
    }
    case "SystemError":
    case "BadArgument":
      return fail(
        ExitCode.Unavailable,
        messageOf(error),
        context.directory === undefined
          ? "Check the disk and its permissions."
          : `Check that ${context.directory} can be written.`
      )
    case "SandboxError":
      return fail(ExitCode.Usage, messageOf(error))
    case "ServeError":
      return fail(
        ExitCode.Unavailable,
        `the sandbox cannot listen: ${messageOf(field(error, "cause", Predicate.isUnknown))}`,
        "Pick another port with --port (0 takes a free one)."
      )
  }
  return fail(ExitCode.Unexpected, `unexpected failure: ${messageOf(error)}`)
}
