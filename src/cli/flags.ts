/**
 * The arguments and options several commands share: `<task-id>`, `--json`, `--quiet`, `--verbose`, and
 * the checked numbers and durations.
 *
 * @internal
 */
import * as Args from "@effect/cli/Args"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as TaskId from "../TaskId.js"
import { DurationFromCli } from "./duration.js"

/**
 * `<task-id>`: a UUID, in any case, given in lower case to the command.
 *
 * @internal
 */
export const taskId: Args.Args<string> = Args.text({ name: "task-id" }).pipe(
  Args.withDescription("The task's id, a UUID (e.g. 2f1a0c3e-6b7d-4e8f-9a0b-1c2d3e4f5a6b)."),
  Args.mapEffect((text) => {
    const id = text.trim().toLowerCase()
    return TaskId.is(id)
      ? Effect.succeed(id)
      : Effect.fail(
        HelpDoc.p(`A task id is a UUID such as 2f1a0c3e-6b7d-4e8f-9a0b-1c2d3e4f5a6b, got ${JSON.stringify(text)}`)
      )
  })
)

/**
 * The flags every command but `sandbox` takes.
 *
 * @internal
 */
export interface Common {
  readonly json: boolean
  readonly quiet: boolean
  readonly verbose: boolean
}

/** @internal */
export const json = Options.boolean("json").pipe(
  Options.withDescription("Print machine-readable JSON on stdout, and nothing else there.")
)

/** @internal */
export const quiet = Options.boolean("quiet").pipe(
  Options.withAlias("q"),
  Options.withDescription("No progress on stderr (errors are still printed).")
)

/** @internal */
export const verbose = Options.boolean("verbose").pipe(
  Options.withAlias("v"),
  Options.withDescription("Log retries and token renewals on stderr (never a secret).")
)

/** @internal */
export const common = { json, quiet, verbose } as const

/**
 * `Options.withSchema`, with the schema's own message alone (not the tree of the transformation).
 */
const withSchema = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeEither(schema)
  return (options: Options.Options<I>): Options.Options<A> =>
    Options.mapEffect(options, (input) =>
      Either.match(decode(input), {
        onLeft: (error) => {
          const [first] = ParseResult.ArrayFormatter.formatErrorSync(error)
          return Effect.fail(ValidationError.invalidValue(HelpDoc.p(first?.message ?? String(error))))
        },
        onRight: Effect.succeed
      }))
}

/**
 * A whole number within bounds.
 *
 * @internal
 */
export const integer = (name: string, min: number, max: number = Number.MAX_SAFE_INTEGER) => {
  const expected = `--${name} takes a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}`
  return Options.text(name).pipe(
    Options.withPseudoName("N"),
    withSchema(
      Schema.transformOrFail(Schema.String, Schema.Number, {
        strict: true,
        decode: (text, _, ast) => {
          const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN
          return Number.isSafeInteger(n) && n >= min && n <= max
            ? ParseResult.succeed(n)
            : ParseResult.fail(new ParseResult.Type(ast, text, `${expected}, got ${JSON.stringify(text)}`))
        },
        encode: (n) => ParseResult.succeed(String(n))
      })
    )
  )
}

/**
 * A `DURATION`: `90s`, `5m`, `2h`, `1h30m`.
 *
 * @internal
 */
export const duration = (name: string) =>
  Options.text(name).pipe(withSchema(DurationFromCli), Options.withPseudoName("DURATION"))
