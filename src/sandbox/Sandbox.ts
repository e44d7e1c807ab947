/**
 * A TextReveal sandbox: a real HTTP server on 127.0.0.1 that serves the token endpoint, the task
 * endpoints and a file host for signed URLs, as the API is documented, with faults on demand. Time (token
 * and URL expiry, task progress, slow bodies) is read from `Clock`, so `TestClock` drives it.
 *
 * @since 0.2.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import { createServer } from "node:http"
import * as Credentials from "../Credentials.js"
import type * as Retry from "../Retry.js"
import type * as TaskId from "../TaskId.js"
import * as TextRevealClient from "../TextRevealClient.js"
import * as DiskCache from "./internal/diskCache.js"
import * as Faults from "./internal/faults.js"
import * as Ids from "./internal/ids.js"
import * as Options_ from "./internal/options.js"
import * as RequestLog from "./internal/requestLog.js"
import * as Router from "./internal/router.js"
import { Settings } from "./internal/settings.js"
import * as Signing from "./internal/signing.js"
import * as TaskStore from "./internal/taskStore.js"
import * as Tokens from "./internal/tokens.js"

/**
 * The routes of the sandbox, for fault injection and the request log: `token` (`POST /oauth/token`),
 * `tasks` (`GET /v3/tasks`), `status`, `download`, `export` (`POST /v3/<resource>/export`) and `file` (the
 * file host).
 *
 * @since 0.1.0
 * @category models
 */
export type Route = "token" | "tasks" | "status" | "download" | "export" | "file"

/**
 * A fault the sandbox can answer with instead of (or on top of) the normal answer.
 *
 * - `TooManyRequests`: 429 with the documented body, with `Retry-After` when `retryAfter` is given
 *   (whole seconds, or a string sent as is, e.g. an HTTP date; printable ASCII only).
 * - `ServerError`: a 5xx (default 500) with the documented JSON body, or an HTML page as proxies send.
 * - `DropConnection`: the normal answer, with its full `Content-Length`, cut after `afterBytes` bytes of body.
 * - `SlowBody`: the normal answer, sent in pieces of `chunkSize` bytes (default 1024, at least 1), one
 *   every `delay` (by `Clock`).
 * - `MalformedJson`: 200 with a truncated JSON body.
 * - `WrongShape`: 200 with valid JSON of the wrong shape.
 * - `ExpireEarly` (route `download` only): URLs that expire after `after` (default: at once) instead of
 *   `urlValidity`.
 * - `ChangeEtag` (route `file` only): the file is replaced by a new version before the request is
 *   answered: new `ETag`, and new bytes of the same size for a generated file, as when an export is
 *   rewritten under the same name. An `If-Range` with the old `ETag` then gets the whole new file (200).
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = Data.TaggedEnum<{
  TooManyRequests: { readonly retryAfter?: number | string | undefined }
  ServerError: { readonly status?: 500 | 502 | 503 | 504 | undefined; readonly html?: boolean | undefined }
  DropConnection: { readonly afterBytes: number }
  SlowBody: { readonly delay: Duration.DurationInput; readonly chunkSize?: number | undefined }
  MalformedJson: {}
  WrongShape: {}
  ExpireEarly: { readonly after?: Duration.DurationInput | undefined }
  ChangeEtag: {}
}>

/**
 * Constructors of {@link Fault}s: `Fault.TooManyRequests({ retryAfter: 2 })`, `Fault.ServerError({ status: 502,
 * html: true })`, `Fault.ChangeEtag()` ... Their values are checked by `injectFault`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Sandbox } from "effect-textreveal/sandbox"
 *
 * export const flaky = Effect.gen(function*() {
 *   const sandbox = yield* Sandbox.Sandbox
 *   // The next download call answers 429 with Retry-After: 2.
 *   yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({ retryAfter: 2 }))
 *   // The next three status calls answer a proxy's HTML 502.
 *   yield* sandbox.injectFault("status", Sandbox.Fault.ServerError({ status: 502, html: true }), { times: 3 })
 *   // One file request in five is cut after 1 KiB, the same ones from run to run.
 *   yield* sandbox.injectFault("file", Sandbox.Fault.DropConnection({ afterBytes: 1024 }), { rate: 0.2, seed: 7 })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fault = Data.taggedEnum<Fault>()

/**
 * When an injected fault applies: to the next `times` requests of its route (default 1), or to each one
 * with probability `rate` (0 to 1), drawn from a generator seeded with `seed` (default 1) so that runs
 * repeat.
 *
 * @since 0.1.0
 * @category models
 */
export type FaultSchedule =
  | { readonly times?: number | undefined }
  | { readonly rate: number; readonly seed?: number | undefined }

/**
 * One request the sandbox received. The log records whether an `Authorization` header was sent, never
 * its value.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  /** The route, or `"unknown"` for a request that matched none (404) or whose target is not a URL (400). */
  readonly route: Route | "unknown"
  readonly method: string
  /** The path and query, as requested. */
  readonly url: string
  readonly status: number
  readonly authorization: boolean
  readonly range: string | undefined
  /** The fault applied, if any. */
  readonly fault: Fault["_tag"] | undefined
  /**
   * An export request's JSON body as the sandbox read it (`{}` for an empty body); absent on other routes
   * and on a body that is not a JSON object.
   *
   * @since 0.4.0
   */
  readonly body?: unknown
}

/**
 * A column of a generated file. The first eight are the default, in this order; `comment` holds quoted
 * values with embedded newlines (LF and CRLF), quotes, commas and non-ASCII text.
 *
 * @since 0.2.0
 * @category models
 */
export type Column =
  | "entity_id"
  | "name"
  | "isin"
  | "ticker"
  | "country"
  | "sector"
  | "founded"
  | "sentiment"
  | "comment"

/**
 * One file of a sandbox task: generated CSV (deterministic, any size, served at disk speed), or the bytes
 * given in `content`.
 *
 * A name is sent percent-encoded in its URL, so hostile names can be tested: `"../../x.csv"` is served as
 * `..%2F..%2Fx.csv`, `"/etc/passwd"` as `%2Fetc%2Fpasswd`. Two files of one name get distinct URLs (the
 * second under a `part-<n>/` folder) with the same last segment. A generated file whose name ends in `.gz`
 * is served gzip-compressed as `application/gzip` (at most 64 MiB before compression).
 *
 * @since 0.1.0
 * @category models
 */
export interface FileSpec {
  /** Data rows after the header. Default: 1000. A few million rows make a file of gigabytes. */
  readonly rows?: number | undefined
  /**
   * The file name: not empty, not `.` or `..`, well-formed Unicode, at most 1024 characters. Default:
   * `<task id>.csv`, then `<task id>-2.csv` ...
   */
  readonly name?: string | undefined
  /** The columns, in order (e.g. reordered, or with `comment`). Default: the first eight of {@link Column}. */
  readonly columns?: ReadonlyArray<Column> | undefined
  /** The line ending of rows and header. Default: `"lf"`. */
  readonly lineEnding?: "lf" | "crlf" | undefined
  /** Start the file with a UTF-8 byte order mark. Default: `false`. */
  readonly bom?: boolean | undefined
  /** The file's bytes (a string is sent as UTF-8), instead of generated rows; excludes the options above. */
  readonly content?: string | Uint8Array | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TaskOptions {
  /** How the task ends. Default: `"completed"`. */
  readonly outcome?: "completed" | "failed" | undefined
  /** How long the task is `starting`, by `Clock`. Default: 0. */
  readonly startingFor?: Duration.DurationInput | undefined
  /** How long it is then `running`. Default: 0. */
  readonly runningFor?: Duration.DurationInput | undefined
  /** Its files. Default: two generated files of 1000 and 250 rows. */
  readonly files?: ReadonlyArray<FileSpec> | undefined
  /** Serve its files gzip-encoded (`Content-Encoding`) to clients that accept it. Default: `false`. */
  readonly gzip?: boolean | undefined
  /** Serve its files as a host that ignores `Range`: always 200 with the whole file. Default: `false`. */
  readonly ignoreRange?: boolean | undefined
  /** `false` makes the task answer 403, as one of another account. Default: `true`. */
  readonly accessible?: boolean | undefined
  /** Default: `"Sandbox entity export"`. */
  readonly description?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The port to listen on, on 127.0.0.1 (0 to 65535). Default: 0, an ephemeral port. */
  readonly port?: number | undefined
  /** The API key its token endpoint accepts. Default: `"sandbox-key"`. */
  readonly username?: string | undefined
  /** The API secret its token endpoint accepts. Default: `"sandbox-secret"`. */
  readonly password?: string | undefined
  /** How long issued tokens live (at least 1 second). Default: 24 hours, as documented. */
  readonly tokenLifetime?: Duration.DurationInput | undefined
  /** The status of a call with an expired or unknown token. Default: 401. */
  readonly rejectedTokenStatus?: 401 | 403 | undefined
  /** How long signed URLs stay valid. Default: 5 minutes, as documented. */
  readonly urlValidity?: Duration.DurationInput | undefined
  /**
   * Seeds the sandbox's randomness (task ids, tokens, file contents, the signing key): a fixed seed gives
   * the same ones on every run. Default: drawn from Effect's `Random`.
   */
  readonly seed?: number | undefined
  /** The task that `POST /v3/<resource>/export` starts. Default: as `createTask()`. */
  readonly exportTask?: TaskOptions | undefined
}

/**
 * What the sandbox serves for one file of a task, to check a download against: its exact size and SHA-256.
 *
 * @since 0.2.0
 * @category models
 */
export interface FileInfo {
  readonly name: string
  /** The path of its signed URLs, e.g. `/files/exports/task=<id>/<name>`. */
  readonly path: string
  readonly size: number
  /** Lower-case hex. */
  readonly sha256: string
  readonly etag: string
  readonly contentType: string
}

/**
 * A call to the sandbox that cannot be honoured: invalid options (a negative row count, a chunk size of 0,
 * a header value with a line break, a port out of range ...) or an unknown task. Nothing reaches the server.
 *
 * @since 0.2.0
 * @category errors
 */
export class SandboxError extends Schema.TaggedError<SandboxError>("effect-textreveal/SandboxError")(
  "SandboxError",
  {
    /** The call refused, e.g. `"createTask"`. */
    operation: Schema.String,
    message: Schema.String
  }
) {}

/**
 * @example
 * ```ts
 * // createTask and files: a task with the files you describe, and what was served.
 * import { Effect } from "effect"
 * import { Sandbox } from "effect-textreveal/sandbox"
 *
 * export const servedDigests = Effect.gen(function*() {
 *   const sandbox = yield* Sandbox.Sandbox
 *   const taskId = yield* sandbox.createTask({
 *     runningFor: "30 seconds",
 *     files: [{ name: "entities.csv", rows: 1000, lineEnding: "crlf" }, { name: "b.csv.gz", rows: 10 }]
 *   })
 *   const files = yield* sandbox.files(taskId)
 *   return files.map((file) => [file.name, file.size, file.sha256] as const)
 * })
 * ```
 *
 * @example
 * ```ts
 * // injectFault and clearFaults: the next token request fails, then the sandbox answers normally again.
 * import { Effect } from "effect"
 * import { Sandbox } from "effect-textreveal/sandbox"
 *
 * export const withFault = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
 *   Effect.gen(function*() {
 *     const sandbox = yield* Sandbox.Sandbox
 *     yield* sandbox.injectFault("token", Sandbox.Fault.ServerError({ status: 503 }))
 *     return yield* Effect.ensuring(effect, sandbox.clearFaults)
 *   })
 * ```
 *
 * @example
 * ```ts
 * // expireTokens: every token issued so far expires now, as if a day had passed.
 * import { Effect } from "effect"
 * import { Sandbox } from "effect-textreveal/sandbox"
 *
 * export const afterExpiry = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
 *   Effect.zipRight(Effect.flatMap(Sandbox.Sandbox, (sandbox) => sandbox.expireTokens), effect)
 * ```
 *
 * @example
 * ```ts
 * // requests and clearRequests: what the sandbox received, never a secret.
 * import { Effect } from "effect"
 * import { Sandbox } from "effect-textreveal/sandbox"
 *
 * export const routesOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
 *   Effect.gen(function*() {
 *     const sandbox = yield* Sandbox.Sandbox
 *     yield* sandbox.clearRequests
 *     yield* effect
 *     const requests = yield* sandbox.requests
 *     return requests.map((request) => `${request.method} ${request.route} ${request.status}`)
 *   })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The API base URL, e.g. `http://127.0.0.1:41234/v3`. */
  readonly baseUrl: string
  /** The token endpoint URL. */
  readonly tokenUrl: string
  /** The API key its token endpoint accepts. */
  readonly username: string
  /** The API secret its token endpoint accepts. */
  readonly password: string
  /** Creates a task, by default completed with two demo files, and gives its id (lower case). */
  readonly createTask: (options?: TaskOptions) => Effect.Effect<TaskId.TaskId, SandboxError>
  /**
   * The files of a task (any case of its id), as currently served, in URL order, with their exact size and
   * SHA-256. Hashing reads each file once; a generated file of 8 MiB or more is written to a temporary
   * file on the way and served from disk from then on, as fast as a static file server.
   */
  readonly files: (taskId: string) => Effect.Effect<ReadonlyArray<FileInfo>, SandboxError>
  /** Makes a route answer with a fault, for the next request by default. */
  readonly injectFault: (route: Route, fault: Fault, schedule?: FaultSchedule) => Effect.Effect<void, SandboxError>
  /** Removes every injected fault. */
  readonly clearFaults: Effect.Effect<void>
  /** Makes every token issued so far expire now. */
  readonly expireTokens: Effect.Effect<void>
  /** The requests received so far, oldest first. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** Forgets the requests received so far. */
  readonly clearRequests: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Sandbox extends Context.Tag("effect-textreveal/Sandbox")<Sandbox, Service>() {}

const refused = (operation: string) => (error: Options_.Refused) =>
  new SandboxError({ operation, message: `${operation}: ${error.message}` })

/**
 * Builds the sandbox on the `HttpServer` in context and serves it until the scope closes. (`port` is the
 * server's business here.)
 *
 * @example
 * ```ts
 * import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
 * import { Layer } from "effect"
 * import { createServer } from "node:http"
 * import { Sandbox } from "effect-textreveal/sandbox"
 *
 * // The sandbox on a server of your choosing, here Node's on port 8787, with repeatable ids and files.
 * export const SandboxOn8787 = Layer.scoped(Sandbox.Sandbox, Sandbox.make({ seed: 42 })).pipe(
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 8787 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options?: Options) {
  const config = yield* Effect.mapError(Options_.config(options), refused("Sandbox"))
  const address = (yield* HttpServer.HttpServer).address
  const origin = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://127.0.0.1"
  const random = Random.make(config.seed ?? (yield* Random.nextInt))
  const signer = Signing.make(yield* Ids.bytes(random, 32))
  const store = yield* TaskStore.make(random, yield* DiskCache.make)
  const tokens = yield* Tokens.make(random, config.tokenLifetime)
  const faults = yield* Faults.make
  const log = yield* RequestLog.make

  yield* HttpServer.serveEffect(Router.app).pipe(
    Effect.provideService(Settings, { ...config, origin }),
    Effect.provideService(Signing.Signer, signer),
    Effect.provideService(TaskStore.TaskStore, store),
    Effect.provideService(Tokens.Tokens, tokens),
    Effect.provideService(Faults.Faults, faults),
    Effect.provideService(RequestLog.RequestLog, log),
    // No spans nor trace headers per request: the sandbox is a fixture, and spans cost throughput.
    HttpMiddleware.withTracerDisabledWhenEffect(() => true)
  )

  const files = (taskId: string) =>
    Effect.gen(function*() {
      const task = yield* store.get(taskId)
      if (Option.isNone(task)) {
        return yield* new SandboxError({ operation: "files", message: `files: no task ${JSON.stringify(taskId)}` })
      }
      return yield* Effect.forEach(task.value.files, (file) =>
        Effect.map(file.body.sha256, (sha256): FileInfo => ({
          name: file.name,
          path: file.path,
          size: file.body.size,
          sha256,
          etag: file.body.etag,
          contentType: file.body.contentType
        })))
    })

  return Sandbox.of({
    baseUrl: `${origin}/v3`,
    tokenUrl: `${origin}/oauth/token`,
    username: config.username,
    password: config.password,
    createTask: (taskOptions) =>
      Options_.task(taskOptions).pipe(
        Effect.mapError(refused("createTask")),
        Effect.flatMap(store.create),
        Effect.map((task) => task.id)
      ),
    files,
    injectFault: (route, fault, schedule) =>
      Options_.faultRule(route, fault, schedule).pipe(
        Effect.mapError(refused("injectFault")),
        Effect.flatMap(faults.add)
      ),
    clearFaults: faults.clear,
    expireTokens: tokens.expireAll,
    requests: log.entries,
    clearRequests: log.clear
  })
})

/**
 * A sandbox on 127.0.0.1, on an ephemeral port unless `port` is given. It stops when its scope closes.
 * Invalid options fail the layer with a {@link SandboxError} before anything listens.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Sandbox } from "effect-textreveal/sandbox"
 *
 * export const demo = Effect.gen(function*() {
 *   const sandbox = yield* Sandbox.Sandbox
 *   const taskId = yield* sandbox.createTask()
 *   yield* Console.log(`${sandbox.baseUrl}/tasks/${taskId}/download`)
 * }).pipe(Effect.provide(Sandbox.layer({ seed: 42, urlValidity: "1 minute" })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Sandbox, SandboxError | HttpServerError.ServeError> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.mapError(Options_.config(options), refused("Sandbox.layer")),
      (config) =>
        Layer.scoped(Sandbox, make(options)).pipe(
          Layer.provide(NodeHttpServer.layer(() => createServer(), { port: config.port, host: "127.0.0.1" }))
        )
    )
  )

/**
 * The options of {@link layerClient}: the sandbox's, and the client's without `baseUrl`.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClientOptions extends Options {
  /** Options of the `TextRevealClient` (its `baseUrl` is the sandbox's). Default: the client's defaults. */
  readonly client?: Omit<TextRevealClient.Options, "baseUrl"> | undefined
}

/** The client's retry and time options, for its token requests too. */
const retryOptionsOf = (client: ClientOptions["client"]): Retry.Options => ({
  retry: client?.retry,
  transientRetry: client?.transientRetry,
  maxAttempts: client?.maxAttempts,
  maxRetryTime: client?.maxRetryTime,
  timeout: client?.timeout
})

/**
 * A sandbox and a `TextRevealClient` wired to it: password credentials with the sandbox's username,
 * password and token URL (its token requests retried and timed by the same `client` options), and its base
 * URL. The `HttpClient` is the caller's to provide (e.g. `FetchHttpClient.layer`). A `ConfigError` means
 * invalid `client` options.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { TextRevealClient } from "effect-textreveal"
 * import { Sandbox } from "effect-textreveal/sandbox"
 *
 * // Retries of 5xx are off, so that an injected fault shows at once.
 * const TestLayer = Sandbox.layerClient({ client: { transientRetry: false } }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * export const fileNames = Effect.gen(function*() {
 *   const sandbox = yield* Sandbox.Sandbox
 *   const client = yield* TextRevealClient.TextRevealClient
 *   const taskId = yield* sandbox.createTask({ files: [{ name: "entities.csv", rows: 5 }] })
 *   const urls = yield* client.getDownloadUrls(taskId)
 *   return urls.map((url) => url.fileName)
 * }).pipe(Effect.provide(TestLayer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerClient = (
  options: ClientOptions = {}
): Layer.Layer<
  Sandbox | TextRevealClient.TextRevealClient,
  SandboxError | HttpServerError.ServeError | ConfigError.ConfigError,
  HttpClient.HttpClient
> => {
  const { client, ...sandboxOptions } = options
  return Layer.unwrapEffect(
    Effect.map(Sandbox, (sandbox) =>
      TextRevealClient.layer({ ...client, baseUrl: sandbox.baseUrl }).pipe(
        Layer.provide(Credentials.layerPassword({
          // The token requests are retried and timed as the client's are.
          ...retryOptionsOf(client),
          username: sandbox.username,
          password: sandbox.password,
          tokenUrl: sandbox.tokenUrl
        }))
      ))
  ).pipe(Layer.provideMerge(layer(sandboxOptions)))
}
