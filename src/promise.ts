/**
 * The library as plain Promises, for applications that do not use Effect: `createClient` gives an object
 * whose methods return Promises and async iterables and throw the library's own error classes. It is the
 * same library, not a second implementation: each method runs the Effect services (`TextRevealClient`,
 * `TaskResults`) with their retries, retry budget, token renewal, redaction and resumable, verified downloads.
 *
 * It runs on Node: it needs the optional peer dependency `@effect/platform-node` (Undici for HTTP, the
 * Node file system for downloads).
 *
 * @since 0.3.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Credentials from "./Credentials.js"
import type * as DownloadUrl_ from "./DownloadUrl.js"
import * as Errors from "./internal/promise/errors.js"
import * as Runner from "./internal/promise/runner.js"
import type * as Retry from "./Retry.js"
import type * as Task_ from "./Task.js"
import type * as TaskId from "./TaskId.js"
import * as TaskResults from "./TaskResults.js"
import * as TextRevealClient from "./TextRevealClient.js"

/**
 * The errors of the API, one class per documented status (`Invalid`, `Unauthorized`, `Forbidden`,
 * `NotFound`, `TooManyRequests`, `ServerError`): the classes the calls throw, for `instanceof`.
 *
 * @since 0.3.0
 * @category errors
 */
export * as TextRevealError from "./TextRevealError.js"

/**
 * The errors of task results (`DownloadError`, `TaskFailed`, `WaitTimeout`, `RowError`, `DeadlineExceeded`):
 * the classes `awaitCompletion`, `download` and `rows` throw, for `instanceof`.
 *
 * @since 0.3.0
 * @category errors
 */
export * as TaskResultsError from "./TaskResultsError.js"

/**
 * The options of {@link createClient} cannot be used: no credentials in the options nor in the environment,
 * only half of a key/secret pair, an empty token, a base URL or token URL that is not usable, a duration that
 * is not one. Thrown by `createClient` for options of the wrong shape; otherwise every call rejects with it.
 * The message names the option or the variables to set, never a secret.
 *
 * @since 0.3.0
 * @category errors
 */
export const ConfigurationError: typeof Errors.ConfigurationError = Errors.ConfigurationError

/**
 * @since 0.3.0
 * @category errors
 */
export type ConfigurationError = Errors.ConfigurationError

/**
 * A call made after `close()`, or still running when `close()` interrupted it.
 *
 * @since 0.3.0
 * @category errors
 */
export const ClientClosed: typeof Errors.ClientClosed = Errors.ClientClosed

/**
 * @since 0.3.0
 * @category errors
 */
export type ClientClosed = Errors.ClientClosed

/**
 * A task as listed: `id` and the fields asked for (`status`, `description`, `type`, and `created_at` and
 * `completed_at` as Effect `DateTime.Utc` values: `.epochMillis`, or `new Date(task.created_at.epochMillis)`).
 *
 * @since 0.3.0
 * @category models
 */
export type Task = Task_.Task

/**
 * `"starting"`, `"running"`, `"failed"` or `"completed"`.
 *
 * @since 0.3.0
 * @category models
 */
export type TaskStatus = Task_.TaskStatus

/**
 * A signed URL of a task's file: `url`, `fileName`, and `expiresAt` (an Effect `DateTime.Utc`, 5 minutes after
 * it was received).
 *
 * @since 0.3.0
 * @category models
 */
export type DownloadUrl = DownloadUrl_.DownloadUrl

/**
 * A file on disk after `download`: `fileName`, absolute `path`, `bytes`, `sha256` (hex), `skipped` (complete
 * from an earlier run).
 *
 * @since 0.3.0
 * @category models
 */
export type DownloadedFile = TaskResults.DownloadedFile

/**
 * Where a download stands: `fileName`, `fileBytes`, `fileSize?`, `totalBytes`, `totalSize?`.
 *
 * @since 0.3.0
 * @category models
 */
export type Progress = TaskResults.Progress

/**
 * A CSV record keyed by the names of its file's header.
 *
 * @since 0.3.0
 * @category models
 */
export type Row = TaskResults.Row

/**
 * The credentials: a fixed `token`, or the API key and secret (`username`, `password`, and the token endpoint
 * `tokenUrl`, default `https://login.textreveal.com/oauth/token`) from which tokens are obtained and renewed.
 * Neither: the environment, as `Credentials.layerConfig` reads it (`TEXTREVEAL_TOKEN`, or
 * `TEXTREVEAL_USERNAME` and `TEXTREVEAL_PASSWORD` with `TEXTREVEAL_TOKEN_URL` optional).
 *
 * @since 0.3.0
 * @category options
 */
export type CredentialOptions =
  | {
    readonly token: string
    readonly username?: undefined
    readonly password?: undefined
    readonly tokenUrl?: undefined
  }
  | {
    readonly token?: undefined
    readonly username: string
    readonly password: string
    readonly tokenUrl?: string | undefined
  }
  | {
    readonly token?: undefined
    readonly username?: undefined
    readonly password?: undefined
    readonly tokenUrl?: undefined
  }

/**
 * The options of {@link createClient}: the credentials, and the `TextRevealClient`'s options with the same
 * meanings and defaults (durations in milliseconds or as strings such as `"30 seconds"`):
 *
 * - `baseUrl`: default `TEXTREVEAL_BASE_URL` when set, else `https://api.textreveal.com/v3`;
 * - `timeout` (one attempt, default 30 seconds), `retry` (429s, default 8 times), `transientRetry` (5xx,
 *   transport failures and timeouts, default 3 times), `maxAttempts` (default 9), `maxRetryTime` (default 5
 *   minutes): see `Retry.Options`; given with a `username` and `password`, they apply to the token requests
 *   too;
 * - `retryBudget`: the retry budget shared by every call of the client, or `false`; see `Retry.BudgetOptions`.
 *
 * @since 0.3.0
 * @category options
 */
export type ClientOptions = CredentialOptions & Retry.Options & {
  readonly baseUrl?: string | undefined
  readonly retryBudget?: false | Retry.BudgetOptions | undefined
}

/**
 * The `signal` of a call: aborting it interrupts the call, which rejects with the signal's `reason`.
 *
 * @since 0.3.0
 * @category options
 */
export interface SignalOptions {
  readonly signal?: AbortSignal | undefined
}

/**
 * Options of {@link Client.listTasks}: `size` (per page, default 100), `fields`, `order` and `maxPages` as in
 * `TextRevealClient.ListTasksOptions`, and a `signal`.
 *
 * @since 0.3.0
 * @category options
 */
export interface ListTasksOptions extends TextRevealClient.ListTasksOptions, SignalOptions {}

/**
 * Options of {@link Client.startExport}: how long to wait for the account's one export slot (`waitForSlot`,
 * default 2 hours; `false` fails at once with `TooManyRequests`), and a `signal`.
 *
 * @since 0.3.0
 * @category options
 */
export interface StartExportOptions extends SignalOptions {
  readonly waitForSlot?: Duration.DurationInput | false | undefined
}

/**
 * Options of {@link Client.awaitCompletion}: the longest wait in all (`timeout`, default none), and a
 * `signal`.
 *
 * @since 0.3.0
 * @category options
 */
export interface AwaitCompletionOptions extends SignalOptions {
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Options of {@link Client.download}.
 *
 * @since 0.3.0
 * @category options
 */
export interface DownloadOptions extends SignalOptions {
  /** Where the files go; created when missing. */
  readonly directory: string
  /** Files fetched at once, at least 1. Default: 4. */
  readonly concurrency?: number | undefined
  /** Fetch every file afresh, ignoring what earlier runs left. Default: `false`. */
  readonly overwrite?: boolean | undefined
  /**
   * Called with the progress, at most every 100 ms per file and once when each file is complete. An exception
   * it throws ends the download, which rejects with it (as Effect reports a defect: an error of the same class
   * and message whose stack also names the call). Default: none.
   */
  readonly onProgress?: ((progress: Progress) => void) | undefined
  /**
   * The longest the whole download may take, retries and waits included; past it, it rejects with
   * `TaskResultsError.DeadlineExceeded` and keeps the `.part` files. Default: none.
   */
  readonly deadline?: Duration.DurationInput | undefined
}

/**
 * Options of {@link Client.rows}: the longest the whole read may take (`deadline`, default none; past it, the
 * loop throws `TaskResultsError.DeadlineExceeded`), and a `signal`.
 *
 * @since 0.3.0
 * @category options
 */
export interface RowsOptions extends SignalOptions {
  readonly deadline?: Duration.DurationInput | undefined
}

/**
 * A TextReveal client whose methods return Promises. Every method rejects with the library's error classes
 * (the instances the Effect services fail with: `instanceof`, `_tag`, `status`, `message` as documented
 * there), never with a wrapper; an aborted `signal` with the signal's `reason`; a call after `close()` with
 * {@link ClientClosed}. No error holds a token, a password or a signed URL's query.
 *
 * @since 0.3.0
 * @category models
 */
export interface Client {
  /**
   * `GET /tasks/{task_id}/download`: the signed URLs of the task's files, valid for 5 minutes. Rejects with
   * `TextRevealError.Invalid` (a task id that is not a UUID, or a task not completed: `taskNotCompleted`),
   * `NotFound`, `Forbidden`, `Unauthorized`, `TooManyRequests`, `ServerError`, or the platform's `RequestError`
   * / `ResponseError` (no answer, or an answer that is not the documented body).
   *
   * @example
   * ```ts
   * import type { Client } from "effect-textreveal/promise"
   *
   * export const printUrls = async (client: Client, taskId: string) => {
   *   for (const url of await client.getDownloadUrls(taskId)) {
   *     // Fetch url.url with a plain GET (within 5 minutes), never with the API token.
   *     console.log(url.fileName, new Date(url.expiresAt.epochMillis).toISOString())
   *   }
   * }
   * ```
   *
   * @since 0.3.0
   */
  readonly getDownloadUrls: (taskId: string, options?: SignalOptions) => Promise<ReadonlyArray<DownloadUrl>>
  /**
   * `GET /tasks/{task_id}/status`: the task's current state. Rejects as {@link Client.getDownloadUrls}.
   *
   * @example
   * ```ts
   * import type { Client } from "effect-textreveal/promise"
   *
   * export const isOver = async (client: Client, taskId: string) => {
   *   const status = await client.getTaskStatus(taskId) // "starting" | "running" | "failed" | "completed"
   *   return status === "completed" || status === "failed"
   * }
   * ```
   *
   * @since 0.3.0
   */
  readonly getTaskStatus: (taskId: string, options?: SignalOptions) => Promise<TaskStatus>
  /**
   * `GET /tasks`: every task of the account, as an async iterable. Each page is fetched when the iteration
   * reaches it, never ahead; leaving the loop (`break`, `return`, a throw) stops fetching. Each iteration
   * starts from the first page. Bad options throw `TextRevealError.Invalid` at the first step; a page that
   * fails throws its error from the loop.
   *
   * @example
   * ```ts
   * import type { Client } from "effect-textreveal/promise"
   *
   * export const runningExport = async (client: Client) => {
   *   for await (const task of client.listTasks({ size: 50, order: ["created_at:desc"] })) {
   *     if (task.status === "running") return task.id // no further page is fetched
   *   }
   *   return undefined
   * }
   * ```
   *
   * @since 0.3.0
   */
  readonly listTasks: (options?: ListTasksOptions) => AsyncIterable<Task>
  /**
   * `POST /<resource>/export` with `body` as JSON (`{}` when absent): starts an export and gives its task id.
   * When another export holds the account's one export slot, it waits for it (see
   * {@link StartExportOptions}). Rejects with `TextRevealError.Invalid` for a bad `resource` or `body`
   * (nothing sent), `TooManyRequests` when the slot stays taken, and the errors of any call.
   *
   * @example
   * ```ts
   * import type { Client } from "effect-textreveal/promise"
   *
   * export const start = (client: Client) =>
   *   client.startExport(
   *     "universes/7d1e2f3a-0000-4000-8000-000000000001/entities",
   *     { fields: ["entity_id", "name", "sentiment"] },
   *     { waitForSlot: "30 minutes" }
   *   )
   * ```
   *
   * @since 0.3.0
   */
  readonly startExport: (
    resource: string,
    body?: Readonly<Record<string, unknown>> | undefined,
    options?: StartExportOptions
  ) => Promise<TaskId.TaskId>
  /**
   * Polls the task's status until it is `completed` (every 2 seconds, growing to 30). Rejects with
   * `TaskResultsError.TaskFailed` when the task failed, `TaskResultsError.WaitTimeout` after `timeout`, and
   * the errors of `getTaskStatus`.
   *
   * @example
   * ```ts
   * import { type Client, TaskResultsError } from "effect-textreveal/promise"
   *
   * export const completed = async (client: Client, taskId: string) => {
   *   try {
   *     await client.awaitCompletion(taskId, { timeout: "2 hours" })
   *     return true
   *   } catch (error) {
   *     if (error instanceof TaskResultsError.TaskFailed) return false
   *     throw error // WaitTimeout, or an error of the API
   *   }
   * }
   * ```
   *
   * @since 0.3.0
   */
  readonly awaitCompletion: (taskId: string, options?: AwaitCompletionOptions) => Promise<void>
  /**
   * Downloads every file of the task into `directory`: each file streams to a temporary `.<name>.part` and is
   * renamed once its bytes match; drops are resumed, expired URLs renewed, and a run after an interrupted one
   * (an aborted `signal`, a crash) continues the `.part` files. Rejects with
   * `TaskResultsError.DownloadError` (a file that could not be fetched intact), the platform's file system
   * errors, and the errors of `getDownloadUrls`.
   *
   * @example
   * ```ts
   * import type { Client } from "effect-textreveal/promise"
   *
   * export const downloadAll = async (client: Client, taskId: string) => {
   *   const files = await client.download(taskId, {
   *     directory: `./results/${taskId}`,
   *     onProgress: (progress) => console.error(`${progress.fileName}: ${progress.fileBytes} bytes`),
   *     // An abort leaves .part files, which the next run continues.
   *     signal: AbortSignal.timeout(60 * 60 * 1000)
   *   })
   *   for (const file of files) console.log(file.path, file.bytes, file.sha256)
   * }
   * ```
   *
   * @since 0.3.0
   */
  readonly download: (taskId: string, options: DownloadOptions) => Promise<ReadonlyArray<DownloadedFile>>
  /**
   * The records of the task's CSV files, file after file, each keyed by its file's header, as an async
   * iterable read as it is iterated (gzip undone, nothing written to disk). Leaving the loop stops reading.
   * Throws `TaskResultsError.RowError` for a record that cannot be read, `DownloadError`, and the errors of
   * `getDownloadUrls`.
   *
   * @example
   * ```ts
   * import type { Client } from "effect-textreveal/promise"
   *
   * export const firstRows = async (client: Client, taskId: string, count: number) => {
   *   const rows: Array<Record<string, string>> = []
   *   for await (const row of client.rows(taskId)) {
   *     rows.push(row) // keyed by the file's header: row["entity_id"], row["name"] ...
   *     if (rows.length === count) break // stops reading
   *   }
   *   return rows
   * }
   * ```
   *
   * @since 0.3.0
   */
  readonly rows: (taskId: string, options?: RowsOptions) => AsyncIterable<Row>
  /**
   * Interrupts the calls and iterations still running (they reject with {@link ClientClosed}; a download keeps
   * its `.part` files), then closes the client's connections, so that the process can exit. Calling it again
   * gives the same Promise.
   *
   * @example
   * ```ts
   * import { createClient } from "effect-textreveal/promise"
   *
   * const client = createClient({ token: "eyJhbGciOiJSUzI1NiIs..." })
   * export const status = (taskId: string) => client.getTaskStatus(taskId)
   * // When the application stops:
   * await client.close()
   * ```
   *
   * @since 0.3.0
   */
  readonly close: () => Promise<void>
  /**
   * `close()`, for `await using`.
   *
   * @example
   * ```ts
   * import { createClient } from "effect-textreveal/promise"
   *
   * export const statusOnce = async (taskId: string) => {
   *   await using client = createClient()
   *   return await client.getTaskStatus(taskId)
   * } // the client is closed here, however the block ends
   * ```
   *
   * @since 0.3.0
   */
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

const invalid = (message: string) => new Errors.ConfigurationError({ message })

/** A duration of the options that is not one, as an error: `Duration.decode` would throw a bare `Error` later. */
const badDuration = (name: string, value: unknown): Errors.ConfigurationError | undefined =>
  value !== undefined && value !== false && Option.isNone(Duration.decodeUnknown(value))
    ? invalid(`${name} is not a duration: give milliseconds or a string such as "30 seconds"`)
    : undefined

/** The durations of the client's options, checked when it is created. */
const checkDurations = (options: ClientOptions): void => {
  const durations: Array<readonly [string, unknown]> = [
    ["timeout", options.timeout],
    ["maxRetryTime", options.maxRetryTime]
  ]
  if (options.retry !== undefined && options.retry !== false) {
    durations.push(
      ["retry.base", options.retry.base],
      ["retry.cap", options.retry.cap],
      ["retry.maxRetryAfter", options.retry.maxRetryAfter]
    )
  }
  if (options.transientRetry !== undefined && options.transientRetry !== false) {
    durations.push(["transientRetry.base", options.transientRetry.base])
  }
  for (const [name, value] of durations) {
    const bad = badDuration(name, value)
    if (bad !== undefined) throw bad
  }
}

/** The credentials layer of the options: a fixed token, the password grant, or the environment. */
const credentialsLayer = (
  options: ClientOptions
): Layer.Layer<Credentials.Credentials, ConfigError.ConfigError, HttpClient.HttpClient> => {
  const { password, token, tokenUrl, username } = options as {
    readonly token?: unknown
    readonly username?: unknown
    readonly password?: unknown
    readonly tokenUrl?: unknown
  }
  if (token !== undefined) {
    if (username !== undefined || password !== undefined || tokenUrl !== undefined) {
      throw invalid("give either token, or username and password, not both")
    }
    if (typeof token !== "string") throw invalid("token must be a string")
    return Credentials.layerToken(Redacted.make(token))
  }
  if (username !== undefined || password !== undefined) {
    if (typeof username !== "string" || typeof password !== "string") {
      throw invalid("username and password go together, both strings")
    }
    if (tokenUrl !== undefined && typeof tokenUrl !== "string") throw invalid("tokenUrl must be a string")
    return Credentials.layerPassword({
      retry: options.retry,
      transientRetry: options.transientRetry,
      maxAttempts: options.maxAttempts,
      maxRetryTime: options.maxRetryTime,
      timeout: options.timeout,
      username: Redacted.make(username),
      password: Redacted.make(password),
      tokenUrl
    })
  }
  if (tokenUrl !== undefined) throw invalid("tokenUrl goes with username and password")
  return Credentials.layerConfig
}

/**
 * The library's log lines (a retry and its wait, at `WARN`) in Effect's default format, on stderr rather than
 * stdout: an application's stdout stays its own.
 */
const stderrLogger = Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.stringLogger))

/**
 * A TextReveal client: one Undici HTTP client, one runtime and one set of services (`TextRevealClient`,
 * `TaskResults`), built here, shared by every call: the same token cache and retry budget for all of them.
 * Credentials come from the options or, when none are given, from the environment (see
 * {@link CredentialOptions}). Options of the wrong shape (a token and a password, a duration that is not one)
 * throw a {@link ConfigurationError} at once; what needs the environment or the services (no credentials, a
 * base URL that is not usable) is checked when the first call builds them, and rejects every call with a
 * `ConfigurationError`. Close it with `close()` or `await using`, so that its connections do not keep the process
 * alive. The library's log lines (each retry, at `WARN`) go to stderr, in Effect's default format.
 *
 * @example
 * ```ts
 * import { createClient, TextRevealError } from "effect-textreveal/promise"
 *
 * // Credentials from the environment: TEXTREVEAL_TOKEN, or TEXTREVEAL_USERNAME and TEXTREVEAL_PASSWORD.
 * // Nothing is sent, nor read from the environment, before the first call.
 * const client = createClient({ timeout: "10 seconds", retryBudget: { capacity: 100 } })
 *
 * export const fileNames = async (taskId: string) => {
 *   try {
 *     return (await client.getDownloadUrls(taskId)).map((url) => url.fileName)
 *   } catch (error) {
 *     if (error instanceof TextRevealError.NotFound) return [] // no such task for these credentials
 *     throw error
 *   }
 * }
 * await client.close()
 * ```
 *
 * @since 0.3.0
 * @category constructors
 */
export const createClient = (options: ClientOptions = {}): Client => {
  checkDurations(options)
  const credentials = credentialsLayer(options)
  const clientOptions: TextRevealClient.Options = {
    retry: options.retry,
    transientRetry: options.transientRetry,
    maxAttempts: options.maxAttempts,
    maxRetryTime: options.maxRetryTime,
    timeout: options.timeout,
    retryBudget: options.retryBudget
  }
  const api = options.baseUrl !== undefined
    ? TextRevealClient.layer({ ...clientOptions, baseUrl: options.baseUrl })
    : Layer.unwrapEffect(Effect.map(
      Config.option(Config.nonEmptyString("TEXTREVEAL_BASE_URL")),
      (baseUrl) => TextRevealClient.layer({ ...clientOptions, baseUrl: Option.getOrUndefined(baseUrl) })
    ))
  const runner = Runner.make(
    TaskResults.layer().pipe(
      Layer.provideMerge(api),
      Layer.provide(credentials),
      Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer, NodePath.layer)),
      Layer.merge(stderrLogger)
    )
  )
  const { iterate, run } = runner
  const withClient = <A, E>(f: (client: TextRevealClient.Service) => Effect.Effect<A, E>) =>
    Effect.flatMap(TextRevealClient.TextRevealClient, f)
  const withResults = <A, E>(f: (results: TaskResults.Service) => Effect.Effect<A, E>) =>
    Effect.flatMap(TaskResults.TaskResults, f)
  /** A call refused before anything is sent when one of its options is bad. */
  const checked = <A, E, R>(
    bad: Errors.ConfigurationError | undefined,
    call: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | Errors.ConfigurationError, R> => bad === undefined ? call : Effect.fail(bad)

  return {
    getDownloadUrls: (taskId, callOptions) =>
      run(withClient((client) => client.getDownloadUrls(taskId)), callOptions?.signal),
    getTaskStatus: (taskId, callOptions) =>
      run(withClient((client) => client.getTaskStatus(taskId)), callOptions?.signal),
    listTasks: (listOptions = {}) => {
      const { signal, ...rest } = listOptions
      return iterate(
        Stream.unwrap(Effect.map(TextRevealClient.TextRevealClient, (client) => client.listTasks(rest))),
        signal
      )
    },
    startExport: (resource, body, exportOptions) =>
      run(
        checked(
          badDuration("waitForSlot", exportOptions?.waitForSlot),
          withClient((client) => client.startExport(resource, body, { waitForSlot: exportOptions?.waitForSlot }))
        ),
        exportOptions?.signal
      ),
    awaitCompletion: (taskId, waitOptions) =>
      run(
        checked(
          badDuration("timeout", waitOptions?.timeout),
          withResults((results) => results.awaitCompletion(taskId, { timeout: waitOptions?.timeout }))
        ),
        waitOptions?.signal
      ),
    download: (taskId, downloadOptions) => {
      const { deadline, onProgress, signal } = downloadOptions
      return run(
        checked(
          badDuration("deadline", deadline),
          withResults((results) =>
            results.download(taskId, {
              directory: downloadOptions.directory,
              concurrency: downloadOptions.concurrency,
              overwrite: downloadOptions.overwrite,
              deadline,
              onProgress: onProgress === undefined ? undefined : (progress) => Effect.sync(() => onProgress(progress))
            })
          )
        ),
        signal
      )
    },
    rows: (taskId, rowsOptions) =>
      iterate(
        Stream.unwrap(checked(
          badDuration("deadline", rowsOptions?.deadline),
          Effect.map(TaskResults.TaskResults, (results) => results.rows(taskId, { deadline: rowsOptions?.deadline }))
        )),
        rowsOptions?.signal
      ),
    close: runner.close,
    [Symbol.asyncDispose]: runner.close
  }
}
