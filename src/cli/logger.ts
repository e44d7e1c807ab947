/**
 * The logger of `textreveal`: one line per entry on stderr (never stdout, which belongs to the output),
 * `<time> <LEVEL> <message> key=value ...`, scrubbed like every stderr write. The progress lines written
 * when stderr is not a terminal use the same form.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
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

/**
 * One log line: ISO time, level, message, then the annotations as `key=value`.
 *
 * @internal
 */
export const formatLine = (
  date: Date,
  level: string,
  message: string,
  annotations: Iterable<readonly [string, unknown]> = []
): string => {
  const pairs = Array.from(annotations, ([key, value]) => `${key}=${quote(show(value))}`)
  return [date.toISOString(), level, message, ...pairs].join(" ")
}

const messageOf = (message: unknown): string => Array.isArray(message) ? message.map(show).join(" ") : show(message)

/**
 * A logger writing to `Stderr`.
 *
 * @internal
 */
export const make = (stderr: Stderr["Type"]): Logger.Logger<unknown, void> =>
  Logger.make(({ annotations, cause, date, logLevel, message }) => {
    const failure = Cause.isEmpty(cause) ? [] : [["cause", Cause.pretty(cause).split("\n")[0] ?? ""] as const]
    stderr.unsafeLine(
      formatLine(date, logLevel.label, messageOf(message), [...HashMap.toEntries(annotations), ...failure])
    )
  })

/**
 * Replaces Effect's default logger (which writes to stdout) with the stderr one, at `Error` and above unless
 * a command asks for more (`--verbose`, `--log-level`).
 *
 * @internal
 */
export const layer: Layer.Layer<never, never, Stderr> = Layer.unwrapEffect(
  Effect.map(Stderr, (stderr) =>
    Layer.merge(
      Logger.replace(Logger.defaultLogger, make(stderr)),
      Logger.minimumLogLevel(LogLevel.Error)
    ))
)
