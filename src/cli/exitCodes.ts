/**
 * The exit codes of `textreveal`: one per kind of outcome a script may want to tell apart.
 *
 * @internal
 */

/** @internal */
export const ExitCode = {
  /** Success. */
  Success: 0,
  /** An unexpected failure: a bug (the only case that prints a stack trace). */
  Unexpected: 1,
  /** Bad usage: unknown command or option, missing argument, a task id that is not a UUID. */
  Usage: 2,
  /** Credentials or configuration missing or refused. */
  Credentials: 3,
  /** `Forbidden` or `NotFound`. */
  Access: 4,
  /** Still rate limited after the retries. */
  RateLimited: 5,
  /** The task failed. */
  TaskFailed: 6,
  /** The task is not completed: `wait` timed out, or it is not finished yet. */
  NotCompleted: 7,
  /** The service, the network, a file host or the disk kept failing. */
  Unavailable: 8,
  /** Interrupted by Ctrl-C (SIGINT): 128 + 2, as shells report it. */
  Interrupted: 130,
  /** Stopped by SIGTERM: 128 + 15. */
  Terminated: 143
} as const

/** @internal */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode]

/**
 * The table shown in `--help` and in docs/cli.md, in order.
 *
 * @internal
 */
export const table: ReadonlyArray<readonly [code: ExitCode, when: string]> = [
  [ExitCode.Success, "success"],
  [ExitCode.Unexpected, "an unexpected failure (a bug: the only case that prints a stack trace)"],
  [ExitCode.Usage, "bad usage: unknown command or option, missing argument, a task id that is not a UUID"],
  [ExitCode.Credentials, "credentials missing or refused (TEXTREVEAL_* variables unset or invalid, Unauthorized)"],
  [ExitCode.Access, "Forbidden or NotFound: the task is not visible to these credentials"],
  [ExitCode.RateLimited, "still rate limited after the retries (TooManyRequests)"],
  [ExitCode.TaskFailed, "the task failed (TaskFailed)"],
  [ExitCode.NotCompleted, "the task is not completed: wait timed out (WaitTimeout), or it is not finished yet"],
  [
    ExitCode.Unavailable,
    "the service, the network, a file host or the disk kept failing (ServerError, RequestError, ResponseError, DownloadError)"
  ],
  [ExitCode.Interrupted, "interrupted (Ctrl-C): stopped cleanly, no partial file under a final name"],
  [ExitCode.Terminated, "stopped by SIGTERM, as cleanly as by Ctrl-C"]
]

/**
 * The same, one short line each, for the top-level help.
 *
 * @internal
 */
export const short: ReadonlyArray<readonly [code: ExitCode, when: string]> = [
  [ExitCode.Success, "success"],
  [ExitCode.Unexpected, "a bug (the only case with a stack trace)"],
  [ExitCode.Usage, "bad usage: unknown command or option, a missing or invalid argument"],
  [ExitCode.Credentials, "credentials missing or refused"],
  [ExitCode.Access, "the task is forbidden or not found"],
  [ExitCode.RateLimited, "still rate limited after the retries"],
  [ExitCode.TaskFailed, "the task failed"],
  [ExitCode.NotCompleted, "the task is not completed (wait timed out, or not finished)"],
  [ExitCode.Unavailable, "the service, the network, a file host or the disk kept failing"],
  [ExitCode.Interrupted, "interrupted by Ctrl-C; 143: by SIGTERM (no partial file left)"]
]
