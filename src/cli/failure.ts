/**
 * What went wrong, for a person and for a script: every expected failure becomes an exit code and one or two
 * lines for stderr (what happened, then what to do). Pure: nothing is printed here.
 *
 * @internal
 */
import * as ValidationError from "@effect/cli/ValidationError"
import type * as PlatformError from "@effect/platform/Error"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Match from "effect/Match"
import type { SandboxError } from "../sandbox/Sandbox.js"
import type * as TaskResults from "../TaskResults.js"
import type * as TextRevealClient from "../TextRevealClient.js"
import type { UsageError } from "./command.js"
import { ExitCode } from "./exitCodes.js"
import type { StdoutClosed } from "./stdout.js"

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

const task = (context: Context) => context.taskId === undefined ? "the task" : `task ${context.taskId}`

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
 * Every failure a command can end with: the errors of the library's operations, of its layers and of the
 * sandbox, of the disk, and of the command line itself. A command whose work can fail otherwise does not
 * compile (`Cli.run` takes only these), and {@link describe} handles each tag.
 *
 * @internal
 */
export type Known =
  | TextRevealClient.ApiError
  | TaskResults.TaskFailed
  | TaskResults.WaitTimeout
  | TaskResults.DownloadError
  | TaskResults.DeadlineExceeded
  | TaskResults.RowError
  | PlatformError.PlatformError
  | ConfigError.ConfigError
  | ValidationError.ValidationError
  | StdoutClosed
  | UsageError
  | SandboxError
  | HttpServerError.ServeError

/** A non-zero wait in whole seconds (`1500ms` is `2s`); a zero one is no wait at all. */
const tryAgain = (retryAfter: Duration.Duration): string => {
  const seconds = Math.ceil(Duration.toMillis(retryAfter) / 1000)
  return seconds <= 0 ? "Try again now." : `Try again in ${Duration.format(Duration.seconds(seconds))} or later.`
}

const attemptsOf = (attempts: number) => attempts > 1 ? ` after ${attempts} attempts` : ""

const diskHint = (context: Context) =>
  context.directory === undefined
    ? "Check the disk and its permissions."
    : `Check that ${context.directory} can be written.`

/**
 * The system error code a text names (`ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`), if any.
 *
 * @internal
 */
export const systemCode = (text: string): string | undefined => /\bE[A-Z][A-Z0-9_]{2,}\b/.exec(text)?.[0]

/** The first `code` (`ECONNREFUSED`) on an error or its causes. */
const codeOf = (error: unknown, depth = 0): string | undefined => {
  if (typeof error !== "object" || error === null || depth > 4) return undefined
  const code = (error as { readonly code?: unknown }).code
  return typeof code === "string" ? code : codeOf((error as { readonly cause?: unknown }).cause, depth + 1)
}

/** ` at 127.0.0.1:9 (ECONNREFUSED, after 4 attempts)`: where, and why once, not the error and its causes in turn. */
const unreachable = (error: TextRevealClient.ApiError & { readonly _tag: "RequestError" }): string => {
  const host = URL.canParse(error.request.url) ? ` at ${new URL(error.request.url).host}` : ""
  const description = error.description ?? error.reason
  return `${host}: ${codeOf(error.cause) ?? systemCode(description) ?? description}`
}

/**
 * The exit code and lines for a failure of a command.
 *
 * @internal
 */
export const describe = (error: Known, context: Context = {}): Failure => {
  if (ValidationError.isValidationError(error)) {
    // `@effect/cli` has printed what was wrong.
    return { code: ExitCode.Usage, lines: ["Run `textreveal help <command>` for its options and examples."] }
  }
  if (ConfigError.isConfigError(error)) {
    return {
      code: ExitCode.Credentials,
      lines: [
        ...configMessages(error).map((message) => `${prefix}${message}`),
        `textreveal reads ${variables}, and TEXTREVEAL_BASE_URL.`
      ]
    }
  }
  return Match.valueTags(error, {
    StdoutClosed: (): Failure => ({ code: ExitCode.Success, lines: [] }),
    UsageError: (usage) => fail(ExitCode.Usage, usage.message, "Run `textreveal help` for usage."),
    Invalid: (invalid) =>
      invalid.taskNotCompleted
        ? notFinished(context)
        : invalid.taskFailed
        ? taskFailed(context)
        : fail(ExitCode.Usage, `TextReveal refused the request: ${invalid.message}`, "Check the arguments."),
    Unauthorized: (unauthorized) =>
      fail(
        ExitCode.Credentials,
        `TextReveal refused the credentials: ${unauthorized.message}`,
        `Check ${variables}; a copied token may have expired.`
      ),
    Forbidden: (forbidden) =>
      fail(
        ExitCode.Access,
        `TextReveal forbids access to ${task({ taskId: forbidden.taskId ?? context.taskId })}: ${forbidden.message}`,
        "It belongs to another account, or these credentials may not read it."
      ),
    NotFound: (notFound) =>
      fail(
        ExitCode.Access,
        `TextReveal has no ${task({ taskId: notFound.taskId ?? context.taskId })}: ${notFound.message}`,
        "Check the id; `textreveal tasks` lists the tasks these credentials can see."
      ),
    TooManyRequests: (limited) =>
      fail(
        ExitCode.RateLimited,
        `TextReveal is still rate limiting${attemptsOf(limited.attempts)}: ${limited.message}`,
        limited.retryAfter === undefined
          ? "Try again in a few minutes; fewer exports at once help."
          : tryAgain(limited.retryAfter)
      ),
    ServerError: (server) =>
      fail(
        ExitCode.Unavailable,
        `TextReveal kept failing${attemptsOf(server.attempts)}: ${server.message}`,
        "The trouble is on the service's side: try again in a few minutes."
      ),
    RequestError: (request) =>
      fail(
        ExitCode.Unavailable,
        `could not reach TextReveal${unreachable(request)}`,
        "Check the network, TEXTREVEAL_BASE_URL and TEXTREVEAL_TOKEN_URL, then try again."
      ),
    ResponseError: (response) =>
      fail(
        ExitCode.Unavailable,
        `TextReveal answered something unexpected: ${response.message}`,
        "Try again; if it persists, report it with the output of --verbose."
      ),
    DownloadError: (download) =>
      fail(
        ExitCode.Unavailable,
        `${download.fileName} could not be downloaded: ${download.message}`,
        resumeHint(context)
      ),
    DeadlineExceeded: (deadline) => fail(ExitCode.Unavailable, deadline.message, resumeHint(context)),
    TaskFailed: () => taskFailed(context),
    WaitTimeout: (timeout) =>
      fail(
        ExitCode.NotCompleted,
        `${task(context)} was not completed in time (last status: ${timeout.status ?? "none received"}).`,
        "Wait longer with --timeout, or run `textreveal wait` again later."
      ),
    RowError: (row) =>
      fail(
        ExitCode.Unavailable,
        `${row.fileName}, line ${row.line}: ${row.message}`,
        "The file holds a record that is not valid CSV; `textreveal download` gets the file as it is."
      ),
    SystemError: (system) => fail(ExitCode.Unavailable, system.message, diskHint(context)),
    BadArgument: (bad) => fail(ExitCode.Unavailable, bad.message, diskHint(context)),
    SandboxError: (sandbox) => fail(ExitCode.Usage, sandbox.message),
    ServeError: (serve) =>
      fail(
        ExitCode.Unavailable,
        `the sandbox cannot listen: ${serve.cause instanceof Error ? serve.cause.message : String(serve.cause)}`,
        "Pick another port with --port (0 takes a free one)."
      )
  })
}
