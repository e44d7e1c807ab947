/**
 * A task's results: wait for the task, get its files onto disk intact, read its rows as typed records.
 *
 * @since 0.2.0
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import type * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Csv from "./internal/taskResults/csv.js"
import * as Deadline from "./internal/taskResults/deadline.js"
import * as Download from "./internal/taskResults/download.js"
import * as Export from "./internal/taskResults/export.js"
import type * as Transfer from "./internal/taskResults/fileTransfer.js"
import { maybeGunzip } from "./internal/taskResults/gzip.js"
import * as Manifest from "./internal/taskResults/manifest.js"
import * as Names from "./internal/taskResults/names.js"
import * as Polling from "./internal/taskResults/polling.js"
import * as Remote from "./internal/taskResults/remote.js"
import * as FileHostRetry from "./internal/taskResults/retry.js"
import * as SignedUrls from "./internal/taskResults/signedUrls.js"
import type * as Retry from "./Retry.js"
import type * as Task from "./Task.js"
import type * as TaskId from "./TaskId.js"
import * as Errors from "./TaskResultsError.js"
import * as TextRevealClient from "./TextRevealClient.js"

/**
 * A file of a task could not be fetched intact: `fileName`, `reason` (see {@link DownloadErrorReason}),
 * `message`, and the file host's `status` when one is at fault. It never holds the signed URL's query nor a
 * header.
 *
 * @since 0.2.0
 * @category errors
 */
export const DownloadError: typeof Errors.DownloadError = Errors.DownloadError

/**
 * @since 0.2.0
 * @category errors
 */
export type DownloadError = Errors.DownloadError

/**
 * Why a file could not be fetched:
 *
 * - `"Expired"`: the file host refused the signed URL (403) again right after fresh URLs were fetched.
 * - `"Missing"`: fresh download URLs no longer list the file.
 * - `"Status"`: the file host answered a status that is not the file (404, 410, a 429 or 5xx still failing
 *   after the retries, a `Retry-After` longer than allowed, ...): `status` holds it.
 * - `"Transport"`: no answer from the file host (connection refused or reset before the headers, an
 *   invalid URL), after the retries.
 * - `"TooManyResumes"`: the body was cut short more than `maxResumes` times without a new byte in between.
 * - `"SizeMismatch"`: the host sent more bytes than it announced (nothing past the announced length is
 *   written), announced or sent more than `maxFileBytes`, or continued at the wrong byte.
 * - `"EntityChanged"`: the file changed on the host after some of its bytes had been handed to a stream
 *   (`files`, `rows`), which cannot take them back. (`download` starts such a file over instead.)
 * - `"Decompression"`: gzip data that is corrupt, truncated or followed by garbage: a body sent with
 *   `Content-Encoding: gzip` (any call), or a `.gz` file (`rows`).
 *
 * @since 0.2.0
 * @category errors
 */
export type DownloadErrorReason = Errors.DownloadErrorReason

/**
 * A `download`, `files` or `rows` call did not finish within its `deadline`.
 *
 * @since 0.3.0
 * @category errors
 */
export const DeadlineExceeded: typeof Errors.DeadlineExceeded = Errors.DeadlineExceeded

/**
 * @since 0.3.0
 * @category errors
 */
export type DeadlineExceeded = Errors.DeadlineExceeded

/**
 * The task ended in the `failed` state.
 *
 * @since 0.2.0
 * @category errors
 */
export const TaskFailed: typeof Errors.TaskFailed = Errors.TaskFailed

/**
 * @since 0.2.0
 * @category errors
 */
export type TaskFailed = Errors.TaskFailed

/**
 * The task was not completed within `timeout` (or before the schedule ended). `status` is the last status
 * seen, absent when none arrived in time.
 *
 * @since 0.2.0
 * @category errors
 */
export const WaitTimeout: typeof Errors.WaitTimeout = Errors.WaitTimeout

/**
 * @since 0.2.0
 * @category errors
 */
export type WaitTimeout = Errors.WaitTimeout

/**
 * A CSV record that cannot be read: `fileName`, `line` (1-based line of the file where the record starts;
 * the header is line 1) and a `message` naming the field at fault when there is one.
 *
 * @since 0.2.0
 * @category errors
 */
export const RowError: typeof Errors.RowError = Errors.RowError

/**
 * @since 0.2.0
 * @category errors
 */
export type RowError = Errors.RowError

/**
 * A file of the task on disk.
 *
 * @since 0.2.0
 * @category models
 */
export interface DownloadedFile {
  /** The safe name used on disk (distinct within the task: `a.csv`, `a (2).csv`). */
  readonly fileName: string
  /** The absolute path of the file. */
  readonly path: string
  readonly bytes: number
  /** The SHA-256 of the file's bytes, lower-case hex. */
  readonly sha256: string
  /** `true` when an earlier run had already completed the file: nothing was fetched for it. */
  readonly skipped: boolean
}

/**
 * Where a download stands, reported at most every 100 ms per file and once when each file is complete.
 *
 * @since 0.2.0
 * @category models
 */
export interface Progress {
  readonly fileName: string
  /** Bytes of this file on disk or received. */
  readonly fileBytes: number
  /** The file's size, once the file host said it. */
  readonly fileSize?: number | undefined
  /** Bytes of all the task's files. */
  readonly totalBytes: number
  /** The size of all the task's files, once every size is known. */
  readonly totalSize?: number | undefined
}

/**
 * A file of the task as a stream of bytes, not touching the disk. The stream fetches when run (once per
 * run), with the same retries, resumes and URL refreshes as `download`.
 *
 * @since 0.2.0
 * @category models
 */
export interface RemoteFile {
  /** The safe name of the file, as `download` would use on disk. */
  readonly fileName: string
  readonly stream: Stream.Stream<Uint8Array, TextRevealClient.ApiError | DownloadError | DeadlineExceeded>
}

/**
 * A CSV record keyed by the names of its file's header.
 *
 * @since 0.2.0
 * @category models
 */
export type Row = Readonly<Record<string, string>>

/**
 * Retries of file-host answers 408, 429 and 5xx and of transport failures, before the body: the same
 * options as the API's 429 retries (see {@link Retry.RateLimitOptions}), with the file host's defaults:
 * `times` 5, `base` 500 ms (each wait jittered 50-100% of its bound), `cap` 30 seconds, `maxRetryAfter` 2
 * minutes.
 *
 * @since 0.2.0
 * @category options
 */
export type RetryOptions = Retry.RateLimitOptions

/**
 * @since 0.2.0
 * @category options
 */
export interface Options {
  /** Retries of the file host's 408/429/5xx and transport failures, or `false`. Default: see {@link RetryOptions}. */
  readonly retry?: false | RetryOptions | undefined
  /** How many times one file may be resumed after a drop that brought no new byte. Default: 5. */
  readonly maxResumes?: number | undefined
  /** A body that sends nothing for this long counts as dropped (and is resumed). Default: 60 seconds. */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /**
   * The time the file host may take to answer a request with its headers; past it the request is a
   * transient failure, retried as such. Default: 30 seconds.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * A body slower than `bytesPerSecond` averaged over `over` counts as dropped (and is resumed), in the
   * manner of curl's `--speed-limit`/`--speed-time`; such drops never count as progress, so a trickle ends in
   * `TooManyResumes`. `false` turns the rule off. Default: 1024 bytes per second over 60 seconds.
   */
  readonly lowSpeed?:
    | false
    | { readonly bytesPerSecond?: number | undefined; readonly over?: Duration.DurationInput | undefined }
    | undefined
  /**
   * The largest file accepted, in bytes: a file announced larger, or a body without `Content-Length` that
   * goes past it, is a `SizeMismatch`. Default: 64 GiB.
   */
  readonly maxFileBytes?: number | undefined
}

/**
 * @since 0.3.0
 * @category options
 */
export interface DeadlineOptions {
  /**
   * The longest the whole call may take, retries, resumes and refreshes included; past it the call fails
   * with a `DeadlineExceeded`. Default: none (each request and body is bounded by `timeout`, `idleTimeout`,
   * `lowSpeed` and the retries).
   */
  readonly deadline?: Duration.DurationInput | undefined
}

/**
 * @since 0.2.0
 * @category options
 */
export interface AwaitCompletionOptions {
  /** When to check again. Default: {@link defaultSchedule}. A schedule that ends first is a `WaitTimeout`. */
  readonly schedule?: Schedule.Schedule<unknown, Task.TaskStatus> | undefined
  /** The longest wait in all. Default: none. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.2.0
 * @category options
 */
export interface DownloadOptions extends DeadlineOptions {
  /** Where the files go; created when missing. */
  readonly directory: string
  /** Files fetched at once, at least 1. Default: 4. */
  readonly concurrency?: number | undefined
  /** Fetch every file afresh, ignoring what earlier runs left. Default: `false`. */
  readonly overwrite?: boolean | undefined
  /** Called with the progress, at most every 100 ms per file and once when each file is complete. Default: none. */
  readonly onProgress?: ((progress: Progress) => Effect.Effect<void>) | undefined
}

/**
 * Options of {@link Service.export}: the export request, the wait, and the download's options (`deadline`
 * bounds the download only).
 *
 * @since 0.4.0
 * @category options
 */
export interface ExportOptions extends DownloadOptions {
  /** The path between `/v3/` and `/export`, e.g. `universes/<id>/entities`. */
  readonly resource: string
  /** The JSON body of the export request. Default: `{}`. */
  readonly body?: Readonly<Record<string, unknown>> | undefined
  /** How long to wait for the account's export slot (see `TextRevealClient.StartExportOptions`). Default: 2 hours. */
  readonly waitForSlot?: Duration.DurationInput | false | undefined
  /** The longest wait for the task to complete, as in `awaitCompletion`. Default: none. */
  readonly timeout?: Duration.DurationInput | undefined
  /** When to check the task's status again, as in `awaitCompletion`. Default: {@link defaultSchedule}. */
  readonly schedule?: Schedule.Schedule<unknown, Task.TaskStatus> | undefined
  /** Start a new export even when the directory records this request's task. Default: `false`. */
  readonly fresh?: boolean | undefined
  /**
   * Called once the task is known, before waiting for it: started now, or continued (`continued: true`)
   * from the directory's record. Default: none.
   */
  readonly onStarted?:
    | ((started: { readonly taskId: TaskId.TaskId; readonly continued: boolean }) => Effect.Effect<void>)
    | undefined
}

/**
 * What {@link Service.export} gives: the export's task and its files on disk.
 *
 * @since 0.4.0
 * @category models
 */
export interface ExportResult {
  readonly taskId: TaskId.TaskId
  readonly files: ReadonlyArray<DownloadedFile>
}

/**
 * @since 0.2.0
 * @category options
 */
export interface RowsOptions extends DeadlineOptions {
  /**
   * What to do with a record whose width differs from the header's, or that the schema refuses: `"fail"`
   * the stream with a `RowError`, or `"skip"` it. Malformed CSV (an unclosed quote) always fails. Default:
   * `"fail"`.
   */
  readonly onInvalid?: "fail" | "skip" | undefined
}

/**
 * @since 0.2.0
 * @category options
 */
export interface RowsSchemaOptions<A, I extends Row> extends RowsOptions {
  /** Decodes each record (keyed by the header's names, all strings) into `A`. */
  readonly schema: Schema.Schema<A, I>
}

/**
 * @example
 * ```ts
 * // awaitCompletion: polls the status until the task completes.
 * import { Console, Effect } from "effect"
 * import { TaskResults } from "effect-textreveal"
 *
 * export const waitFor = (taskId: string) =>
 *   Effect.flatMap(TaskResults.TaskResults, (results) => results.awaitCompletion(taskId, { timeout: "2 hours" })).pipe(
 *     Effect.catchTags({
 *       TaskFailed: (e) => Console.error(`task ${e.taskId} failed`),
 *       WaitTimeout: (e) => Console.error(`still ${e.status ?? "unknown"} after 2 hours`)
 *     })
 *   )
 * ```
 *
 * @example
 * ```ts
 * // download: every file of the task into a directory, verified; a re-run skips complete files.
 * import { Console, Effect } from "effect"
 * import { TaskResults } from "effect-textreveal"
 *
 * export const fetchAll = (taskId: string) =>
 *   Effect.gen(function*() {
 *     const results = yield* TaskResults.TaskResults
 *     const files = yield* results.download(taskId, {
 *       directory: `./exports/${taskId}`,
 *       concurrency: 2,
 *       deadline: "1 hour",
 *       onProgress: (p) => Console.log(`${p.fileName}: ${p.fileBytes}/${p.fileSize ?? "?"} bytes`)
 *     })
 *     for (const file of files) yield* Console.log(file.path, file.bytes, file.sha256, file.skipped ? "(kept)" : "")
 *   })
 * ```
 *
 * @example
 * ```ts
 * // export: start an export (or continue the one recorded in the directory), wait, download.
 * import { Console, Effect } from "effect"
 * import { TaskResults } from "effect-textreveal"
 *
 * export const nightly = Effect.gen(function*() {
 *   const results = yield* TaskResults.TaskResults
 *   const { files, taskId } = yield* results.export({
 *     resource: "universes/7d1e2f3a-0000-4000-8000-000000000001/entities",
 *     body: { fields: ["entity_id", "name", "sentiment"] },
 *     directory: "./exports/entities",
 *     timeout: "2 hours",
 *     onStarted: ({ continued, taskId }) => Console.log(taskId, continued ? "(continued)" : "(started)")
 *   })
 *   yield* Console.log(taskId, files.length, "files")
 * })
 * ```
 *
 * @example
 * ```ts
 * // files: each file as a stream of bytes, without touching the disk.
 * import { Effect, Stream } from "effect"
 * import { TaskResults } from "effect-textreveal"
 *
 * export const sizes = (taskId: string) =>
 *   Effect.gen(function*() {
 *     const results = yield* TaskResults.TaskResults
 *     const files = yield* results.files(taskId, { deadline: "10 minutes" })
 *     return yield* Effect.forEach(files, (file) =>
 *       Stream.runFold(file.stream, 0, (bytes, chunk) => bytes + chunk.length).pipe(
 *         Effect.map((bytes) => ({ fileName: file.fileName, bytes }))
 *       ))
 *   })
 * ```
 *
 * @example
 * ```ts
 * // rows: the CSV records of every file, keyed by header, decoded with a schema.
 * import { Console, Effect, Schema, Stream } from "effect"
 * import { TaskResults } from "effect-textreveal"
 *
 * const Entity = Schema.Struct({ entity_id: Schema.String, name: Schema.String, sentiment: Schema.NumberFromString })
 *
 * export const firstRows = (taskId: string) =>
 *   Effect.flatMap(TaskResults.TaskResults, (results) =>
 *     results.rows(taskId, { schema: Entity, onInvalid: "skip" }).pipe(
 *       Stream.take(5),
 *       Stream.runForEach((row) => Console.log(row.entity_id, row.name, row.sentiment))
 *     ))
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /**
   * Polls the task's status until it is `completed`. `failed` is a `TaskFailed`; the `timeout` (or the end
   * of the schedule) a `WaitTimeout` with the last status seen.
   */
  readonly awaitCompletion: (
    taskId: string,
    options?: AwaitCompletionOptions
  ) => Effect.Effect<void, TextRevealClient.ApiError | TaskFailed | WaitTimeout>
  /**
   * Downloads every file of the task into `directory`, one record per URL, in URL order. Each file streams
   * to a temporary name and is renamed only when its bytes match `Content-Length` and its ETag did not
   * change; drops are resumed with `Range`/`If-Range`; expired URLs are fetched afresh; a manifest in the
   * directory lets a re-run skip complete files and resume partial ones.
   */
  readonly download: (
    taskId: string,
    options: DownloadOptions
  ) => Effect.Effect<
    ReadonlyArray<DownloadedFile>,
    TextRevealClient.ApiError | DownloadError | DeadlineExceeded | PlatformError.PlatformError
  >
  /**
   * Starts an export (`TextRevealClient.startExport`), waits for its task to complete and downloads its files
   * into `directory`. Before waiting, it records the request (resource, SHA-256 of the body's canonical JSON)
   * and the task id in the directory (`.textreveal-export.json`): run again with the same request and
   * directory, it continues that task instead of starting another, unless the task failed, is no longer found
   * (`NotFound`: results are kept one week), or `fresh` is given.
   *
   * @since 0.4.0
   */
  readonly export: (
    options: ExportOptions
  ) => Effect.Effect<
    ExportResult,
    | TextRevealClient.ApiError
    | TaskFailed
    | WaitTimeout
    | DownloadError
    | DeadlineExceeded
    | PlatformError.PlatformError
  >
  /**
   * The task's files as streams of bytes, in URL order, without touching the disk. A body sent with
   * `Content-Encoding: gzip` is decoded. The `deadline` counts from this call, for every stream.
   */
  readonly files: (
    taskId: string,
    options?: DeadlineOptions
  ) => Effect.Effect<ReadonlyArray<RemoteFile>, TextRevealClient.ApiError>
  /**
   * The records of the task's CSV files, file after file in URL order, each keyed by its file's header (so
   * a changed column order changes nothing), decoded with `schema` when given. Gzip is undone.
   */
  readonly rows: {
    <A, I extends Row>(
      taskId: string,
      options: RowsSchemaOptions<A, I>
    ): Stream.Stream<A, TextRevealClient.ApiError | DownloadError | DeadlineExceeded | RowError>
    (
      taskId: string,
      options?: RowsOptions
    ): Stream.Stream<Row, TextRevealClient.ApiError | DownloadError | DeadlineExceeded | RowError>
  }
}

/**
 * @since 0.2.0
 * @category tags
 */
export class TaskResults extends Context.Tag("effect-textreveal/TaskResults")<TaskResults, Service>() {}

/**
 * The default wait between two status checks: 2 seconds, growing by half each check up to 30 seconds,
 * each wait jittered (80-120%).
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultSchedule: Schedule.Schedule<unknown, Task.TaskStatus> = Polling.defaultSchedule

const issueMessage = (issue: ParseResult.ParseIssue): string => {
  const first = ParseResult.ArrayFormatter.formatIssueSync(issue)[0]
  if (first === undefined) return ParseResult.TreeFormatter.formatIssueSync(issue)
  return first.path.length === 0 ? first.message : `field "${first.path.join(".")}": ${first.message}`
}

/**
 * Builds the service. Files are fetched with the `HttpClient` of the context, with plain GETs: no API token,
 * no trace headers, no span (a signed URL's query is its signature).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { TaskResults } from "effect-textreveal"
 *
 * // The service in a layer of your own, with tighter limits for the file host.
 * export const TaskResultsStrict = Layer.effect(
 *   TaskResults.TaskResults,
 *   TaskResults.make({ timeout: "10 seconds", idleTimeout: "20 seconds", maxResumes: 2 })
 * )
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<
  Service,
  never,
  TextRevealClient.TextRevealClient | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const client = yield* TextRevealClient.TextRevealClient
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const http = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerDisabledWhen(() => true),
      HttpClient.withTracerPropagation(false)
    )
    const lowSpeed = options.lowSpeed === false ? undefined : {
      bytesPerSecond: options.lowSpeed?.bytesPerSecond ?? 1024,
      over: Duration.decode(options.lowSpeed?.over ?? Duration.seconds(60))
    }
    const transfer: Omit<Transfer.Env, "urls"> = {
      http,
      policy: FileHostRetry.resolve(options.retry),
      maxResumes: options.maxResumes ?? 5,
      maxFileBytes: options.maxFileBytes ?? 64 * 1024 ** 3,
      timeout: Duration.decode(options.timeout ?? Duration.seconds(30)),
      speed: { idle: Duration.decode(options.idleTimeout ?? Duration.seconds(60)), lowSpeed }
    }

    const awaitCompletion = Effect.fn("TaskResults.awaitCompletion")(
      function*(taskId: string, waitOptions?: AwaitCompletionOptions) {
        yield* Effect.annotateCurrentSpan("textreveal.task_id", taskId)
        return yield* Polling.awaitCompletion(
          client,
          taskId,
          waitOptions?.schedule ?? Polling.defaultSchedule,
          waitOptions?.timeout
        )
      }
    )

    const download = Effect.fn("TaskResults.download")(function*(taskId: string, downloadOptions: DownloadOptions) {
      yield* Effect.annotateCurrentSpan("textreveal.task_id", taskId)
      return yield* Download.download({ client, fs, path, transfer }, taskId, downloadOptions).pipe(
        Deadline.effect(taskId, downloadOptions.deadline)
      )
    })

    const files = Effect.fn("TaskResults.files")(function*(taskId: string, filesOptions?: DeadlineOptions) {
      yield* Effect.annotateCurrentSpan("textreveal.task_id", taskId)
      const within = yield* Deadline.stream(taskId, filesOptions?.deadline)
      const urls = yield* client.getDownloadUrls(taskId)
      const env: Transfer.Env = { ...transfer, urls: yield* SignedUrls.make(client, taskId, urls) }
      return Names.assign(urls.map((url) => url.fileName)).map((slot): RemoteFile => ({
        fileName: slot.name,
        stream: within(Remote.stream(env, slot))
      }))
    })

    const rows = <A, I extends Row>(
      taskId: string,
      rowsOptions?: RowsOptions & { readonly schema?: Schema.Schema<A, I> | undefined }
    ): Stream.Stream<A, TextRevealClient.ApiError | DownloadError | DeadlineExceeded | RowError> => {
      const schema = rowsOptions?.schema
      const decode: Csv.Decode<A> | undefined = schema === undefined ? undefined : (() => {
        const decodeEither = ParseResult.decodeUnknownEither(schema)
        return (row: Row) => Either.mapLeft(decodeEither(row), issueMessage)
      })()
      const onInvalid = rowsOptions?.onInvalid ?? "fail"
      return Stream.unwrap(Effect.map(files(taskId, { deadline: rowsOptions?.deadline }), Stream.fromIterable)).pipe(
        Stream.flatMap((file) =>
          file.stream.pipe(maybeGunzip(file.fileName), Csv.parse(file.fileName, decode, onInvalid))
        ),
        Stream.withSpan("TaskResults.rows", { attributes: { "textreveal.task_id": taskId } })
      )
    }

    const export_ = Effect.fn("TaskResults.export")(function*(exportOptions: ExportOptions) {
      const wanted = yield* Export.request(exportOptions.resource, exportOptions.body)
      yield* Effect.annotateCurrentSpan("textreveal.resource", wanted.resource)
      const directory = path.resolve(exportOptions.directory)
      const waitOptions: AwaitCompletionOptions = { schedule: exportOptions.schedule, timeout: exportOptions.timeout }
      const started = (taskId: TaskId.TaskId, continued: boolean) =>
        Effect.zipRight(
          Effect.annotateCurrentSpan("textreveal.task_id", taskId),
          exportOptions.onStarted?.({ taskId, continued }) ?? Effect.void
        )

      const start = Effect.gen(function*() {
        const taskId = yield* client.startExport(wanted.resource, exportOptions.body, {
          waitForSlot: exportOptions.waitForSlot
        })
        yield* Manifest.writeExport(fs, path, directory, { version: 1, ...wanted, taskId })
        yield* started(taskId, false)
        yield* awaitCompletion(taskId, waitOptions)
        return taskId
      })

      const planned = Export.plan(
        yield* Export.readRecord(fs, path, directory),
        wanted,
        exportOptions.fresh === true
      )
      const taskId = planned._tag === "Start" ? yield* start : yield* Effect.gen(function*() {
        const recorded = planned.taskId.toLowerCase() as TaskId.TaskId
        yield* started(recorded, true)
        return yield* awaitCompletion(recorded, waitOptions).pipe(
          Effect.as(recorded),
          Effect.catchIf(Export.abandoned, (error) =>
            Effect.logWarning("TaskResults: the recorded export cannot be continued; starting another").pipe(
              Effect.annotateLogs({ task_id: recorded, reason: error._tag }),
              Effect.zipRight(start)
            ))
        )
      })
      const files = yield* download(taskId, exportOptions)
      return { taskId, files }
    })

    return TaskResults.of({ awaitCompletion, download, export: export_, files, rows: rows as Service["rows"] })
  })

/**
 * The service, from a `TextRevealClient`, an `HttpClient` and the platform's `FileSystem` and `Path` (e.g.
 * `NodeContext.layer`).
 *
 * @example
 * ```ts
 * import * as NodeContext from "@effect/platform-node/NodeContext"
 * import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
 * import { Layer } from "effect"
 * import { Credentials, TaskResults, TextRevealClient } from "effect-textreveal"
 *
 * // TaskResults and the TextRevealClient it uses, from the environment's credentials.
 * export const TaskResultsLive = TaskResults.layer().pipe(
 *   Layer.provideMerge(TextRevealClient.layerConfig),
 *   Layer.provide(Credentials.layerConfig),
 *   Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<
  TaskResults,
  never,
  TextRevealClient.TextRevealClient | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> => Layer.effect(TaskResults, make(options))
