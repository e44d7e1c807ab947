/**
 * What every command does around its work: the log level of `--verbose`, and the end of a failure: its lines
 * on stderr and its exit code. A command that fails ends in {@link Exited}, carrying the code.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { ExitCode } from "./exitCodes.js"
import * as Failure from "./failure.js"
import { Stderr } from "./stderr.js"

/**
 * A command ended with a code other than 0; its lines are on stderr already.
 *
 * @internal
 */
export class Exited extends Data.TaggedError("Exited")<{ readonly code: number }> {}

/**
 * The command line was used wrongly in a way `@effect/cli` does not see (no command given).
 *
 * @internal
 */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/**
 * Prints a failure's lines, and for a bug its full cause (the one case with a stack trace).
 *
 * @internal
 */
export const report = (cause: Cause.Cause<Failure.Known>, context: Failure.Context = {}) =>
  Effect.gen(function*() {
    const stderr = yield* Stderr
    const error = Cause.failureOption(cause)
    const failure = Option.isSome(error)
      ? Failure.describe(error.value, context)
      : { code: ExitCode.Unexpected, lines: ["textreveal: unexpected failure (a bug, please report it):"] }
    for (const line of failure.lines) yield* stderr.line(line)
    if (failure.code === ExitCode.Unexpected) yield* stderr.line(Cause.pretty(cause, { renderErrorCause: true }))
    return failure.code
  })

const interruptedLines = (context: Failure.Context): ReadonlyArray<string> =>
  context.directory === undefined
    ? ["textreveal: interrupted."]
    : [
      `textreveal: interrupted; files not finished are left under temporary names (.<name>.part) in ${context.directory}.`,
      "Run the same command again to resume them."
    ]

/**
 * Runs a command's work with `--verbose` applied; a failure is reported and becomes {@link Exited}. An
 * interruption (Ctrl-C, SIGTERM) says so and stays an interruption (exit code 130 or 143). The work may fail
 * only with {@link Failure.Known} errors: one that can fail otherwise is a compile error here.
 *
 * @internal
 */
export const run = <E extends Failure.Known, R>(
  flags: { readonly verbose: boolean },
  context: Failure.Context,
  work: Effect.Effect<void, E, R>
): Effect.Effect<void, Exited, R | Stderr> =>
  work.pipe(
    flags.verbose ? Logger.withMinimumLogLevel(LogLevel.Debug) : (self) => self,
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.failCause(cause as Cause.Cause<never>)
        : Effect.flatMap(
          report(cause, context),
          (code) => code === ExitCode.Success ? Effect.void : new Exited({ code })
        )
    ),
    Effect.onInterrupt(() =>
      Effect.flatMap(Stderr, (stderr) => Effect.forEach(interruptedLines(context), stderr.line, { discard: true }))
    )
  )
