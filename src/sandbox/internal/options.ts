/**
 * The options of the sandbox, its tasks and its faults, checked once at the call: anything the server could
 * not honour (a negative row count, a chunk size of 0, a header value with a line break, a port out of
 * range) is refused with a message naming the option, before it can reach the server.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Sandbox from "../Sandbox.js"
import * as Csv from "./csv.js"
import * as Files from "./files.js"

// ---- building blocks

const wholeNumber = (min: number, max: number) =>
  Schema.Number.pipe(
    Schema.filter((n) => Number.isInteger(n) && n >= min && n <= max, {
      message: (issue) => `Expected a whole number from ${min} to ${max}, got ${String(issue.actual)}`
    })
  )

const isNonNegativeInput = (u: unknown): boolean => {
  if (typeof u === "number") return u >= 0
  if (typeof u === "bigint") return u >= BigInt(0)
  if (typeof u === "string") return !u.trim().startsWith("-")
  if (Array.isArray(u)) return u.every((n) => typeof n === "number" && n >= 0)
  return true
}

/** A `DurationInput` that is not negative, decoded to a `Duration` (`Duration.decode` would turn -5 into 0). */
const DurationInput = (options: { readonly finite: boolean }) =>
  Schema.transformOrFail(Schema.Unknown, Schema.DurationFromSelf, {
    strict: true,
    decode: (u, _, ast) => {
      const duration = isNonNegativeInput(u) ? Duration.decodeUnknown(u) : Option.none()
      if (Option.isNone(duration)) {
        return ParseResult.fail(
          new ParseResult.Type(
            ast,
            u,
            `Expected a duration that is not negative (e.g. "5 seconds" or a number of milliseconds), got ${String(u)}`
          )
        )
      }
      if (options.finite && !Duration.isFinite(duration.value)) {
        return ParseResult.fail(new ParseResult.Type(ast, u, "Expected a finite duration"))
      }
      return ParseResult.succeed(duration.value)
    },
    encode: ParseResult.succeed
  })

const finiteDuration = DurationInput({ finite: true })
const anyDuration = DurationInput({ finite: false })

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** A file name that can be percent-encoded into one URL path segment that no client normalises away. */
const FileName = Schema.String.pipe(
  Schema.filter((s) => s.length > 0 || "Expected a file name, got an empty string"),
  Schema.filter((s) => (s !== "." && s !== "..") || `"${s}" cannot be a file name: URL parsers drop it from a path`),
  Schema.filter((s) => !loneSurrogate.test(s) || "Expected well-formed Unicode, got a lone surrogate"),
  Schema.filter((s) => s.length <= 1024 || "Expected a file name of at most 1024 characters")
)

/** A header value: printable ASCII, so that it cannot split the header block (no CR, LF or NUL). */
const HeaderValue = Schema.String.pipe(
  Schema.filter((s) =>
    /^[\t\x20-\x7e]*$/.test(s) || `Expected printable ASCII for a header value, got ${JSON.stringify(s)}`
  )
)

// ---- tasks

/** The most rows of a generated file: about 110 GB. */
const maxRows = 1_000_000_000

const layoutOptions = (
  spec: {
    readonly columns?: ReadonlyArray<Csv.Column> | undefined
    readonly lineEnding?: "lf" | "crlf" | undefined
    readonly bom?: boolean | undefined
  }
): Csv.LayoutOptions => ({
  columns: spec.columns ?? Csv.defaultColumns,
  lineEnding: spec.lineEnding ?? "lf",
  bom: spec.bom ?? false
})

const FileSpec = Schema.Struct({
  rows: Schema.optional(wholeNumber(0, maxRows)),
  name: Schema.optional(FileName),
  columns: Schema.optional(
    Schema.NonEmptyArray(Schema.Literal(...Csv.columns)).pipe(
      Schema.filter((cs) => new Set(cs).size === cs.length || "Expected each column at most once")
    )
  ),
  lineEnding: Schema.optional(Schema.Literal("lf", "crlf")),
  bom: Schema.optional(Schema.Boolean),
  content: Schema.optional(Schema.Union(Schema.String, Schema.Uint8ArrayFromSelf))
}).pipe(
  Schema.filter((spec) =>
    spec.content === undefined ||
    (spec.rows === undefined && spec.columns === undefined && spec.lineEnding === undefined &&
      spec.bom === undefined) ||
    "content gives the bytes: it excludes rows, columns, lineEnding and bom"
  ),
  Schema.filter((spec) =>
    spec.content !== undefined || spec.name === undefined || !spec.name.toLowerCase().endsWith(".gz") ||
    Csv.size(Csv.layout(layoutOptions(spec)), spec.rows ?? 1000) <= Files.maxCompressedInput ||
    `a generated .gz file is compressed in memory: at most ${Files.maxCompressedInput} bytes before compression`
  )
)

const TaskOptions = Schema.Struct({
  outcome: Schema.optional(Schema.Literal("completed", "failed")),
  startingFor: Schema.optional(anyDuration),
  runningFor: Schema.optional(anyDuration),
  files: Schema.optional(Schema.Array(FileSpec).pipe(Schema.maxItems(1000))),
  gzip: Schema.optional(Schema.Boolean),
  ignoreRange: Schema.optional(Schema.Boolean),
  accessible: Schema.optional(Schema.Boolean),
  description: Schema.optional(Schema.String)
})

/**
 * One file of a task, checked.
 *
 * @internal
 */
export interface FileConfig {
  readonly name: string | undefined
  readonly content:
    | { readonly _tag: "Given"; readonly bytes: Uint8Array }
    | { readonly _tag: "Generated"; readonly rows: number; readonly layout: Csv.LayoutOptions }
}

/**
 * A task's options, checked, with their defaults.
 *
 * @internal
 */
export interface TaskConfig {
  readonly outcome: "completed" | "failed"
  readonly startingFor: Duration.Duration
  readonly runningFor: Duration.Duration
  readonly files: ReadonlyArray<FileConfig>
  readonly gzip: boolean
  readonly ignoreRange: boolean
  readonly accessible: boolean
  readonly description: string
}

const encoder = new TextEncoder()

const fileConfig = (spec: typeof FileSpec.Type): FileConfig => ({
  name: spec.name,
  content: spec.content !== undefined
    // A copy: bytes changed by the caller after `createTask` must not change the file.
    ? { _tag: "Given", bytes: typeof spec.content === "string" ? encoder.encode(spec.content) : spec.content.slice() }
    : {
      _tag: "Generated",
      rows: spec.rows ?? 1000,
      layout: layoutOptions(spec)
    }
})

const taskConfig = (options: typeof TaskOptions.Type): TaskConfig => ({
  outcome: options.outcome ?? "completed",
  startingFor: options.startingFor ?? Duration.zero,
  runningFor: options.runningFor ?? Duration.zero,
  files: (options.files ?? [{ rows: 1000 }, { rows: 250 }]).map(fileConfig),
  gzip: options.gzip ?? false,
  ignoreRange: options.ignoreRange ?? false,
  accessible: options.accessible ?? true,
  description: options.description ?? "Sandbox entity export"
})

// ---- the sandbox

const Options = Schema.Struct({
  port: Schema.optional(wholeNumber(0, 65535)),
  username: Schema.optional(Schema.NonEmptyString),
  password: Schema.optional(Schema.NonEmptyString),
  tokenLifetime: Schema.optional(
    finiteDuration.pipe(Schema.filter((d) => Duration.toMillis(d) >= 1000 || "Expected at least 1 second"))
  ),
  rejectedTokenStatus: Schema.optional(Schema.Literal(401, 403)),
  urlValidity: Schema.optional(finiteDuration),
  seed: Schema.optional(wholeNumber(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
  exportTask: Schema.optional(TaskOptions)
})

/**
 * The sandbox's options, checked, with their defaults.
 *
 * @internal
 */
export interface Config {
  readonly port: number
  readonly username: string
  readonly password: string
  readonly tokenLifetime: Duration.Duration
  readonly rejectedTokenStatus: 401 | 403
  readonly urlValidity: Duration.Duration
  readonly seed: number | undefined
  readonly exportTask: TaskConfig
}

// ---- faults

const Fault = Schema.Union(
  Schema.TaggedStruct("TooManyRequests", {
    retryAfter: Schema.optional(Schema.Union(wholeNumber(0, Number.MAX_SAFE_INTEGER), HeaderValue))
  }),
  Schema.TaggedStruct("ServerError", {
    status: Schema.optional(Schema.Literal(500, 502, 503, 504)),
    html: Schema.optional(Schema.Boolean)
  }),
  Schema.TaggedStruct("DropConnection", { afterBytes: wholeNumber(0, Number.MAX_SAFE_INTEGER) }),
  Schema.TaggedStruct("SlowBody", { delay: finiteDuration, chunkSize: Schema.optional(wholeNumber(1, 1 << 30)) }),
  Schema.TaggedStruct("MalformedJson", {}),
  Schema.TaggedStruct("WrongShape", {}),
  Schema.TaggedStruct("ExpireEarly", { after: Schema.optional(finiteDuration) }),
  Schema.TaggedStruct("ChangeEtag", {})
)

/**
 * A fault, checked, with its durations decoded.
 *
 * @internal
 */
export type FaultConfig = typeof Fault.Type

const Schedule = Schema.Union(
  Schema.Struct({ times: Schema.optional(wholeNumber(1, Number.MAX_SAFE_INTEGER)) }),
  Schema.Struct({
    rate: Schema.Number.pipe(
      Schema.filter((n) => n >= 0 && n <= 1, {
        message: (issue) => `Expected a rate from 0 to 1, got ${String(issue.actual)}`
      })
    ),
    seed: Schema.optional(wholeNumber(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))
  })
)

/** The routes each fault means something on; elsewhere it would silently do nothing. */
const faultRoutes: Partial<Record<FaultConfig["_tag"], ReadonlyArray<Sandbox.Route>>> = {
  ExpireEarly: ["download"],
  ChangeEtag: ["file"]
}

/**
 * A fault rule, checked.
 *
 * @internal
 */
export interface FaultRuleConfig {
  readonly route: Sandbox.Route
  readonly fault: FaultConfig
  readonly schedule: { readonly _tag: "Times"; readonly times: number } | {
    readonly _tag: "Rate"
    readonly rate: number
    readonly seed: number
  }
}

const Route = Schema.Literal("token", "tasks", "status", "download", "export", "file")

const FaultRule = Schema.Struct({
  route: Route,
  fault: Fault,
  // Excess properties are refused below, so `{ rate: 2 }` cannot pass as `{ times }`.
  schedule: Schema.optional(Schedule)
}).pipe(
  Schema.filter((rule) => {
    const routes = faultRoutes[rule.fault._tag]
    return routes === undefined || routes.includes(rule.route) ||
      `${rule.fault._tag} applies to the ${routes.map((r) => `"${r}"`).join(", ")} route only, not "${rule.route}"`
  })
)

// ---- decoding

const strict = { errors: "all", onExcessProperty: "error" } as const

/** `files[0].rows: Expected ...; port: ...` */
const describe = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).filter((issue) =>
    // Every optional option is also allowed to be `undefined`: that alternative says nothing useful.
    !issue.message.startsWith("Expected undefined,")
  ).map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, key) => typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`,
      ""
    )
    return path === "" ? issue.message : `${path}: ${issue.message}`
  }).join("; ")

/**
 * Options refused, with a message naming each option at fault.
 *
 * @internal
 */
export interface Refused {
  readonly message: string
}

const decode = <A, I>(schema: Schema.Schema<A, I>) => {
  const run = Schema.decodeUnknown(schema, strict)
  return (input: unknown): Effect.Effect<A, Refused> =>
    Effect.mapError(run(input), (error) => ({ message: describe(error) }))
}

/**
 * Checks the sandbox's options.
 *
 * @internal
 */
export const config = (options: Sandbox.Options | undefined): Effect.Effect<Config, Refused> =>
  Effect.map(decode(Options)(options ?? {}), (o) => ({
    port: o.port ?? 0,
    username: o.username ?? "sandbox-key",
    password: o.password ?? "sandbox-secret",
    tokenLifetime: o.tokenLifetime ?? Duration.hours(24),
    rejectedTokenStatus: o.rejectedTokenStatus ?? 401,
    urlValidity: o.urlValidity ?? Duration.minutes(5),
    seed: o.seed,
    exportTask: taskConfig(o.exportTask ?? {})
  }))

/**
 * Checks a task's options.
 *
 * @internal
 */
export const task = (options: Sandbox.TaskOptions | undefined): Effect.Effect<TaskConfig, Refused> =>
  Effect.map(decode(TaskOptions)(options ?? {}), taskConfig)

/**
 * Checks a fault rule.
 *
 * @internal
 */
export const faultRule = (
  route: Sandbox.Route,
  fault: Sandbox.Fault,
  schedule: Sandbox.FaultSchedule | undefined
): Effect.Effect<FaultRuleConfig, Refused> =>
  Effect.map(
    decode(FaultRule)(schedule === undefined ? { route, fault } : { route, fault, schedule }),
    (rule) => ({
      route: rule.route,
      fault: rule.fault,
      schedule: rule.schedule !== undefined && "rate" in rule.schedule
        ? { _tag: "Rate", rate: rule.schedule.rate, seed: rule.schedule.seed ?? 1 }
        : { _tag: "Times", times: rule.schedule?.times ?? 1 }
    })
  )
