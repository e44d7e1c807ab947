/**
 * The `Console` that `@effect/cli` prints help, versions and usage errors with: help on stdout, errors
 * through `Stderr` (scrubbed, above any display). Its styling is dropped when the stream is not a terminal
 * or `NO_COLOR` is set, so that pipes and logs get plain text.
 *
 * @internal
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Stderr } from "./stderr.js"
import { Stdout } from "./stdout.js"

const escapes = /\x1b\[[0-9;?]*[ -/]*[@-~]/g

const text = (args: ReadonlyArray<unknown>, styled: boolean) => {
  const joined = args.map(String).join(" ")
  return styled ? joined : joined.replace(escapes, "")
}

/**
 * A usage error of `@effect/cli` in the form of every other message: `textreveal: ` first, then the reason
 * in lower case (`Received unknown argument: '--frob'` becomes `textreveal: unknown option '--frob'`).
 *
 * @internal
 */
export const usageLine = (message: string): string => {
  const unknown = /^Received unknown argument: '(.*)'$/s.exec(message)
  const reason = unknown === null
    ? message.trim()
    : unknown[1]!.startsWith("-")
    ? `unknown option '${unknown[1]}'`
    : `unexpected argument '${unknown[1]}'`
  return reason.startsWith("textreveal: ")
    ? reason
    : `textreveal: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`
}

/**
 * The console of the command line, over its `Stdout` and `Stderr`.
 *
 * @internal
 */
export const layer: Layer.Layer<never, never, Stdout | Stderr> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const stdout = yield* Stdout
    const stderr = yield* Stderr
    const base = yield* Effect.console
    const stdoutStyled = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
    const out = (...args: ReadonlyArray<unknown>) =>
      Effect.ignore(stdout.line(text(args, stdoutStyled).replace(/\n+$/, "")))
    const err = (...args: ReadonlyArray<unknown>) =>
      stderr.line(usageLine(text(args, stderr.color).replace(/\n+$/, "")))
    const console: Console.Console = { ...base, log: out, info: out, error: err, warn: err, debug: err, trace: err }
    return Console.setConsole(console)
  })
)
