/**
 * The logger of `textreveal`: Effect's `Logger`, writing one line per entry on stderr (never stdout, which
 * belongs to the output), `<time> <LEVEL> <message> key=value ...`, scrubbed like every stderr write.
 * Progress lines written when stderr is not a terminal are log entries too (`Display`).
 *
 * Without `--verbose`, only errors are printed, and on a terminal one notice the first time a request is
 * retried, so that a person knows the command is waiting, not stuck.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { systemCode } from "./failure.js"
import { Stderr } from "./stderr.js"

const quote = (value: string) => /^[^\s"=]*$/.test(value) && value !== "" ? value : JSON.stringify(value)

const show = (value: unknown): string => {
  if (typeof value === "string") return value
  if (value instanceof Error) return value.message
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    // A value JSON cannot represent (a cycle, a bigint): its string form is all there is to print.
    return String(value)
  }
}

const messageOf = (message: unknown): string => Array.isArray(message) ? message.map(show).join(" ") : show(message)

/** The message the client logs before each retry (`internal/retryPolicy.ts`). */
const retrying = "TextReveal request failed, retrying"

/**
 * A logger writing to `Stderr`: every entry that passes the minimum level when it is `Debug` (`--verbose`),
 * otherwise entries at `Info` that a display logged, errors, and the first retry notice on a terminal.
 *
 * @internal
 */
export const make = (stderr: Stderr["Type"]): Logger.Logger<unknown, void> => {
  let retryNoticed = false
  const line = Logger.make<unknown, string>(({ annotations, cause, date, logLevel, message }) => {
    const failure = Cause.isEmpty(cause) ? [] : [["cause", Cause.pretty(cause).split("\n")[0] ?? ""] as const]
    const pairs = [...HashMap.toEntries(annotations), ...failure].map(([key, value]) => `${key}=${quote(show(value))}`)
    return [date.toISOString(), logLevel.label, messageOf(message), ...pairs].join(" ")
  })
  return Logger.make((options) => {
    const verbose = LogLevel.lessThanEqual(
      FiberRefs.getOrDefault(options.context, FiberRef.currentMinimumLogLevel),
      LogLevel.Debug
    )
    if (verbose || options.logLevel._tag !== "Warning") return stderr.unsafeLine(line.log(options))
    const text = messageOf(options.message)
    if (text === retrying && stderr.interactive && !retryNoticed) {
      retryNoticed = true
      const failure = HashMap.get(options.annotations, "failure").pipe(Option.map(show))
      const status = HashMap.get(options.annotations, "status").pipe(Option.map(show))
      const why = Option.getOrUndefined(Option.flatMapNullable(failure, systemCode)) ??
        (Option.isSome(status) && status.value !== "undefined" ? `status ${status.value}` : "no answer")
      stderr.unsafeLine(`textreveal: TextReveal did not answer (${why}); retrying (--verbose shows each retry)...`)
    }
  })
}

/**
 * Replaces Effect's default logger (which writes to stdout) with the stderr one, at `Error` and above unless
 * a command asks for more (`--verbose`, `--log-level`); at `Warning` on a terminal, for the retry notice.
 *
 * @internal
 */
export const layer: Layer.Layer<never, never, Stderr> = Layer.unwrapEffect(
  Effect.map(Stderr, (stderr) =>
    Layer.merge(
      Logger.replace(Logger.defaultLogger, make(stderr)),
      Logger.minimumLogLevel(stderr.interactive ? LogLevel.Warning : LogLevel.Error)
    ))
)
