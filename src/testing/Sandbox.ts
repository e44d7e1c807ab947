/**
 * A TextReveal sandbox: a real HTTP server on 127.0.0.1 that serves the token endpoint, the task
 * endpoints and a file host for signed URLs, as the API is documented, with faults on demand.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes, randomUUID } from "node:crypto"
import { createServer } from "node:http"
import { createGzip } from "node:zlib"
import * as Credentials from "../Credentials.js"
import * as DownloadUrl from "../DownloadUrl.js"
import * as Task from "../Task.js"
import * as TaskId from "../TaskId.js"
import * as TextRevealError from "../TextRevealError.js"
import * as DemoCsv from "./internal/demoCsv.js"
import { makeSigner, storageError } from "./internal/signing.js"

/**
 * The routes of the sandbox, for fault injection and the request log.
 *
 * @since 0.1.0
 * @category models
 */
export type Route = "token" | "tasks" | "status" | "download" | "file"

/**
 * A fault the sandbox can answer with instead of (or on top of) the normal answer.
 *
 * - `TooManyRequests`: 429 with the documented body, with `Retry-After` when `retryAfter` is given
 *   (seconds, or a string sent as is, e.g. an HTTP date).
 * - `ServerError`: a 5xx (default 500) with the documented JSON body, or an HTML page as proxies send.
 * - `DropConnection`: the normal answer, with its full `Content-Length`, cut after `afterBytes` bytes of body.
 * - `SlowBody`: the normal answer, sent in pieces of `chunkSize` bytes (default 1024) every `delay`.
 * - `MalformedJson`: 200 with a truncated JSON body.
 * - `WrongShape`: 200 with valid JSON of the wrong shape.
 * - `ExpireEarly`: on `download`, URLs that expire after `after` (default: at once) instead of 5 minutes.
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
}>

/**
 * Constructors of {@link Fault}s: `Fault.TooManyRequests({ retryAfter: 2 })`, `Fault.ServerError({ status: 502,
 * html: true })` ...
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fault = Data.taggedEnum<Fault>()

/**
 * When an injected fault applies: to the next `times` requests of its route (default 1), or to each one
 * with probability `rate`, drawn from a generator seeded with `seed` (default 1) so that runs repeat.
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
  readonly route: Route | "unknown"
  readonly method: string
  /** The path and query, as requested. */
  readonly url: string
  readonly status: number
  readonly authorization: boolean
  readonly range: string | undefined
  /** The fault applied, if any. */
  readonly fault: Fault["_tag"] | undefined
}

/**
 * One file of a sandbox task.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileSpec {
  /** Data rows after the header. Default: 1000. A few million rows make a file of gigabytes. */
  readonly rows?: number | undefined
  /** The file name. Default: `<task id>.csv`, then `<task id>-2.csv` ... */
  readonly name?: string | undefined
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
  /** Its files. Default: two files of 1000 and 250 rows. */
  readonly files?: ReadonlyArray<FileSpec> | undefined
  /** Serve its files gzip-encoded to clients that accept it. Default: `false`. */
  readonly gzip?: boolean | undefined
  /** `false` makes the task answer 403, as one of another account. Default: `true`. */
  readonly accessible?: boolean | undefined
  readonly description?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The port to listen on, on 127.0.0.1. Default: 0, an ephemeral port. */
  readonly port?: number | undefined
  /** The API key its token endpoint accepts. Default: `"sandbox-key"`. */
  readonly username?: string | undefined
  /** The API secret its token endpoint accepts. Default: `"sandbox-secret"`. */
  readonly password?: string | undefined
  /** How long issued tokens live. Default: 24 hours, as documented. */
  readonly tokenLifetime?: Duration.DurationInput | undefined
  /** The status of a call with an expired or unknown token. Default: 401. */
  readonly rejectedTokenStatus?: 401 | 403 | undefined
  /** How long signed URLs stay valid. Default: 5 minutes, as documented. */
  readonly urlValidity?: Duration.DurationInput | undefined
}

/**
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
  /** Creates a task, by default completed with two demo files, and gives its id. */
  readonly createTask: (options?: TaskOptions) => Effect.Effect<TaskId.TaskId>
  /** Makes a route answer with a fault, for the next request by default. */
  readonly injectFault: (route: Route, fault: Fault, schedule?: FaultSchedule) => Effect.Effect<void>
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
export class Sandbox extends Context.Tag("effect-textreveal/testing/Sandbox")<Sandbox, Service>() {}

interface TaskRecord {
  readonly id: TaskId.TaskId
  readonly seq: number
  readonly createdAt: number
  readonly startingFor: number
  readonly runningFor: number
  readonly outcome: "completed" | "failed"
  readonly files: ReadonlyArray<{ readonly name: string; readonly file: DemoCsv.DemoFile }>
  readonly gzip: boolean
  readonly accessible: boolean
  readonly description: string
}

interface FaultRule {
  readonly route: Route
  readonly fault: Fault
  readonly applies: () => boolean
}

/** A small seeded generator (mulberry32), so that faults at a rate repeat from run to run. */
const seeded = (seed: number) => {
  let state = seed >>> 0
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ruleTrigger = (schedule: FaultSchedule | undefined): () => boolean => {
  if (schedule !== undefined && "rate" in schedule) {
    const next = seeded(schedule.seed ?? 1)
    return () => next() < schedule.rate
  }
  let remaining = schedule?.times ?? 1
  return () => remaining-- > 0
}

/**
 * A JSON answer encoded with the library's own wire schema: client and sandbox share one definition of
 * every body.
 */
const respond = <A, I>(
  schema: Schema.Schema<A, I>,
  value: A,
  options?: HttpServerResponse.Options.WithContentType
): HttpServerResponse.HttpServerResponse =>
  // The sandbox builds every value it encodes: a failure to encode would be a bug in the sandbox itself.
  HttpServerResponse.unsafeJson(Schema.encodeSync(schema)(value), options)

const apiError = (
  status: number,
  message: string,
  reason: string,
  errors?: ReadonlyArray<{ message: string; field: string; reason: string }>,
  headers?: Record<string, string>
) =>
  respond(TextRevealError.ErrorBody, {
    message,
    code: status,
    reason,
    ...(errors ? { errors: errors.map((e) => new TextRevealError.FieldError(e)) } : {})
  }, { status, ...(headers ? { headers } : {}) })

const tokenError = (status: number, error: string, description: string) =>
  respond(Credentials.TokenErrorBody, { error, error_description: description }, { status })

const htmlPage = (status: number, title: string) =>
  HttpServerResponse.text(
    `<html>\n<head><title>${status} ${title}</title></head>\n<body>\n<center><h1>${status} ${title}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n`,
    { status, contentType: "text/html" }
  )

const serverErrorTitles: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
  504: "Gateway Time-out"
}

const bodyStream = (response: HttpServerResponse.HttpServerResponse): Stream.Stream<Uint8Array, unknown> => {
  const body = response.body
  switch (body._tag) {
    case "Uint8Array":
      return Stream.make(body.body)
    case "Stream":
      return body.stream
    default:
      return Stream.empty
  }
}

const bodyLength = (response: HttpServerResponse.HttpServerResponse): number | undefined => {
  const body = response.body
  return body._tag === "Uint8Array" ? body.body.length : body._tag === "Stream" ? body.contentLength : undefined
}

const withBody = (response: HttpServerResponse.HttpServerResponse, stream: Stream.Stream<Uint8Array, unknown>) => {
  const length = bodyLength(response)
  return HttpServerResponse.stream(stream, {
    status: response.status,
    headers: response.headers,
    contentType: response.body._tag === "Empty" ? undefined : response.body.contentType,
    ...(length === undefined ? {} : { contentLength: length })
  })
}

/** Splits a byte stream into pieces of at most `size` bytes. */
const rechunkBytes = (size: number) => (stream: Stream.Stream<Uint8Array, unknown>) =>
  Stream.mapConcat(stream, (bytes) => {
    const pieces: Array<Uint8Array> = []
    for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size))
    return pieces
  })

/** The first `limit` bytes of a stream. */
const takeBytes = (limit: number) => (stream: Stream.Stream<Uint8Array, unknown>) =>
  stream.pipe(
    Stream.mapAccum(0, (sent, bytes) => [sent + bytes.length, bytes.subarray(0, Math.max(0, limit - sent))] as const),
    Stream.takeWhile((bytes) => bytes.length > 0)
  )

/** Whether an `Accept-Encoding` header takes gzip: named (or `*`) without `q=0`. */
const acceptsGzip = (header: string | undefined): boolean =>
  (header ?? "").split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";").map((p) => p.trim())
    const q = params.find((p) => p.startsWith("q="))
    return (coding === "gzip" || coding === "*") && (q === undefined || Number(q.slice(2)) > 0)
  })

/** A `Range` header against a file of `size` bytes: none to serve it whole, left when unsatisfiable. */
const parseRange = (
  value: string | undefined,
  size: number
): Option.Option<Either.Either<readonly [number, number], "unsatisfiable">> => {
  if (value === undefined) return Option.none()
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim())
  // Several ranges, or another unit: answered with the whole file, which HTTP allows.
  if (match === null || (match[1] === "" && match[2] === "")) return Option.none()
  const [first, last] = [match[1]!, match[2]!]
  if (first === "") {
    const suffix = Number(last)
    return Option.some(
      suffix === 0 ? Either.left("unsatisfiable") : Either.right([Math.max(0, size - suffix), size - 1] as const)
    )
  }
  const start = Number(first)
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1)
  // A last byte before the first makes the header invalid, and an invalid `Range` is ignored.
  if (match[2] !== "" && Number(last) < start) return Option.none()
  return Option.some(start >= size ? Either.left("unsatisfiable") : Either.right([start, end] as const))
}

const TokenRequest = Schema.parseJson(Credentials.TokenRequestBody)

/**
 * Builds the sandbox on the `HttpServer` in context and serves it until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const server = yield* HttpServer.HttpServer
  const address = server.address
  const origin = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://127.0.0.1"
  const username = options.username ?? "sandbox-key"
  const password = options.password ?? "sandbox-secret"
  const tokenLifetime = Duration.decode(options.tokenLifetime ?? Duration.hours(24))
  const urlValidity = Duration.decode(options.urlValidity ?? Duration.minutes(5))
  const rejectedTokenStatus = options.rejectedTokenStatus ?? 401
  const signer = makeSigner()

  const tokens = yield* Ref.make(new Map<string, number>())
  const tasks = yield* Ref.make<ReadonlyArray<TaskRecord>>([])
  const faults = yield* Ref.make<ReadonlyArray<FaultRule>>([])
  const log = yield* Ref.make(Chunk.empty<RecordedRequest>())

  const statusOf = (task: TaskRecord, now: number): Task.TaskStatus => {
    const elapsed = now - task.createdAt
    if (elapsed < task.startingFor) return "starting"
    if (elapsed < task.startingFor + task.runningFor) return "running"
    return task.outcome
  }

  const nextFault = (route: Route) =>
    Ref.get(faults).pipe(
      Effect.map((rules) =>
        Option.map(Option.fromNullable(rules.find((rule) => rule.route === route && rule.applies())), (r) => r.fault)
      )
    )

  // ---- token endpoint

  const issueToken = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const token = `sbx.${randomBytes(24).toString("base64url")}`
    yield* Ref.update(tokens, (map) => new Map(map).set(token, now + Duration.toMillis(tokenLifetime)))
    return respond(Credentials.TokenResponseBody, {
      access_token: Redacted.make(token),
      expires_in: Math.max(1, Math.round(Duration.toSeconds(tokenLifetime))),
      token_type: "Bearer"
    })
  })

  const tokenRoute = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    // A body that cannot be read is answered as a malformed one.
    const text = yield* Effect.orElseSucceed(request.text, () => "")
    const body = Schema.decodeUnknownEither(TokenRequest)(text)
    if (Either.isLeft(body)) {
      return tokenError(
        400,
        "invalid_request",
        "Expected a JSON password grant with username, password, audience and client_id."
      )
    }
    const grant = body.right
    if (grant.client_id !== Credentials.defaultClientId || grant.audience !== Credentials.defaultAudience) {
      return tokenError(401, "access_denied", "Unknown client or audience.")
    }
    if (Redacted.value(grant.username) !== username || Redacted.value(grant.password) !== password) {
      return tokenError(403, "invalid_grant", "Wrong email or password.")
    }
    return yield* issueToken
  })

  // ---- API

  /** Checks the bearer token; answers the documented 401 (or 403) when it is missing, unknown or expired. */
  const authenticate = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const header = request.headers["authorization"]
    if (header === undefined || !header.startsWith("Bearer ")) {
      return Option.some(apiError(401, "Authorization header is expected", "unauthorized"))
    }
    const expiresAt = (yield* Ref.get(tokens)).get(header.slice("Bearer ".length))
    if (expiresAt !== undefined && expiresAt > (yield* Clock.currentTimeMillis)) return Option.none()
    return Option.some(
      rejectedTokenStatus === 401
        ? apiError(401, "invalid username or API key", "unauthorized")
        : apiError(403, "Not authorized to access this resource", "forbidden")
    )
  })

  const findTask = (rawId: string) =>
    Effect.gen(function*() {
      if (!TaskId.is(rawId)) {
        return Either.left(apiError(400, "The server returned an unexpected response", "invalid", [
          { message: "Invalid uuid", field: "task_id", reason: "invalid_string" }
        ]))
      }
      const task = (yield* Ref.get(tasks)).find((t) => t.id === rawId)
      if (task === undefined) {
        return Either.left(apiError(404, "The requested task does not exist or is not visible to you.", "not_found"))
      }
      if (!task.accessible) return Either.left(apiError(403, "Not authorized to access this resource", "forbidden"))
      return Either.right(task)
    })

  const statusRoute = (rawId: string) =>
    Effect.gen(function*() {
      const task = yield* findTask(rawId)
      if (Either.isLeft(task)) return task.left
      return respond(Task.StatusBody, { status: statusOf(task.right, yield* Clock.currentTimeMillis) })
    })

  const downloadRoute = (rawId: string, fault: Option.Option<Fault>) =>
    Effect.gen(function*() {
      const found = yield* findTask(rawId)
      if (Either.isLeft(found)) return found.left
      const task = found.right
      const now = yield* Clock.currentTimeMillis
      const status = statusOf(task, now)
      if (status === "failed") return apiError(400, "An error occured while processing the task.", "internal")
      if (status !== "completed") return apiError(400, `The task is ${status}: its results are not ready.`, "invalid")
      const validity = Option.isSome(fault) && fault.value._tag === "ExpireEarly"
        ? Duration.toMillis(fault.value.after ?? 0)
        : Duration.toMillis(urlValidity)
      return respond(
        DownloadUrl.DownloadUrlsBody,
        task.files.map(({ name }) =>
          origin + signer.sign(`/files/exports/task=${task.id}/${encodeURIComponent(name)}`, now + validity)
        )
      )
    })

  const listRoute = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const query = new URL(request.url, origin).searchParams
    const sizeParam = query.get("size") ?? "10"
    const size = Number(sizeParam)
    if (!/^\d+$/.test(sizeParam) || size < 1 || size > 1000) {
      return apiError(400, "The server returned an unexpected response", "invalid", [
        /^\d+$/.test(sizeParam)
          ? { message: "Number must be between 1 and 1000", field: "size", reason: size < 1 ? "too_small" : "too_big" }
          : { message: "Expected number, received string", field: "size", reason: "invalid_type" }
      ])
    }
    const fields = query.getAll("fields").flatMap((f) => f.split(",")).filter((f) => f !== "")
    const unknownField = fields.find((f) => !Schema.is(Task.TaskField)(f))
    if (unknownField !== undefined) {
      return apiError(400, "The server returned an unexpected response", "invalid", [
        { message: `Unknown field ${unknownField}`, field: "fields", reason: "invalid_enum_value" }
      ])
    }
    const descending = (query.get("order") ?? "created_at:desc").split(",")[0]?.endsWith(":asc") !== true
    const now = yield* Clock.currentTimeMillis
    const all = (yield* Ref.get(tasks)).filter((t) => t.accessible)
    const ordered = descending ? [...all].reverse() : all
    const after = query.get("search_after")
    const start = after === null ? 0 : ordered.findIndex((t) => String(t.seq) === after) + 1
    const page = ordered.slice(start, start + size)
    const hasNext = start + size < ordered.length
    const wanted = (field: Task.TaskField) => fields.length === 0 || fields.includes(field)
    const data = page.map((t) => {
      const status = statusOf(t, now)
      const done = status === "completed" || status === "failed"
      return new Task.Task({
        id: t.id,
        ...(wanted("status") ? { status } : {}),
        ...(wanted("description") ? { description: t.description } : {}),
        ...(wanted("type") ? { type: "export" } : {}),
        ...(wanted("created_at") ? { created_at: DateTime.unsafeMake(t.createdAt) } : {}),
        ...(wanted("completed_at")
          ? { completed_at: done ? DateTime.unsafeMake(t.createdAt + t.startingFor + t.runningFor) : null }
          : {})
      })
    })
    return respond(Task.TaskListBody, {
      data,
      size: page.length,
      has_next: hasNext,
      count: ordered.length,
      search_after: hasNext && page.length > 0 ? String(page[page.length - 1]!.seq) : null
    })
  })

  // ---- file host

  const fileRoute = (taskPart: string, encodedName: string) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = new URL(request.url, origin)
      const path = url.pathname
      if (
        !signer.verify(
          path,
          url.searchParams.get("expires") ?? undefined,
          url.searchParams.get("signature") ?? undefined
        )
      ) {
        return HttpServerResponse.text(
          storageError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided."
          ),
          { status: 403, contentType: "application/xml" }
        )
      }
      if (Number(url.searchParams.get("expires")) <= (yield* Clock.currentTimeMillis)) {
        return HttpServerResponse.text(storageError("AccessDenied", "Request has expired"), {
          status: 403,
          contentType: "application/xml"
        })
      }
      const task = (yield* Ref.get(tasks)).find((t) => `task=${t.id}` === taskPart)
      const name = decodeURIComponent(encodedName)
      const entry = task?.files.find((f) => f.name === name)
      if (task === undefined || entry === undefined) {
        return HttpServerResponse.text(storageError("NoSuchKey", "The specified key does not exist."), {
          status: 404,
          contentType: "application/xml"
        })
      }
      const size = DemoCsv.size(entry.file)
      const etag = `"${entry.file.seed.toString(16)}-${size.toString(16)}"`
      const headers = { etag, "accept-ranges": "bytes" }
      if (task.gzip && acceptsGzip(request.headers["accept-encoding"])) {
        return HttpServerResponse.stream(
          NodeStream.pipeThroughSimple(DemoCsv.stream(entry.file), () => createGzip()),
          { headers: { etag, "content-encoding": "gzip", vary: "accept-encoding" }, contentType: "text/csv" }
        )
      }
      const ifRange = request.headers["if-range"]
      const range = ifRange === undefined || ifRange === etag
        ? parseRange(request.headers["range"], size)
        : Option.none()
      if (Option.isNone(range)) {
        return HttpServerResponse.stream(DemoCsv.stream(entry.file), {
          headers,
          contentType: "text/csv",
          contentLength: size
        })
      }
      if (Either.isLeft(range.value)) {
        return HttpServerResponse.empty({ status: 416, headers: { ...headers, "content-range": `bytes */${size}` } })
      }
      const [start, end] = range.value.right
      return HttpServerResponse.stream(DemoCsv.stream(entry.file, start, end + 1), {
        status: 206,
        headers: { ...headers, "content-range": `bytes ${start}-${end}/${size}` },
        contentType: "text/csv",
        contentLength: end + 1 - start
      })
    })

  // ---- faults and dispatch

  const applyFault = (
    fault: Fault,
    normal: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
    Fault.$match(fault, {
      TooManyRequests: ({ retryAfter }) =>
        Effect.succeed(
          apiError(
            429,
            "You have too many exports in progress.",
            "too_many_requests",
            undefined,
            retryAfter === undefined ? {} : { "retry-after": String(retryAfter) }
          )
        ),
      ServerError: ({ html, status = 500 }) =>
        Effect.succeed(
          html ? htmlPage(status, serverErrorTitles[status]!) : apiError(status, "Internal server error", "internal")
        ),
      MalformedJson: () =>
        Effect.succeed(
          HttpServerResponse.text("[\"https://files.textreveal.com/exp", { contentType: "application/json" })
        ),
      WrongShape: () => Effect.succeed(HttpServerResponse.unsafeJson({ urls: [], status: "ok" })),
      ExpireEarly: () => normal,
      SlowBody: ({ chunkSize, delay }) =>
        Effect.map(normal, (response) =>
          withBody(
            response,
            bodyStream(response).pipe(rechunkBytes(chunkSize ?? 1024), Stream.tap(() => Effect.sleep(delay)))
          )),
      DropConnection: ({ afterBytes }) =>
        Effect.gen(function*() {
          const response = yield* normal
          const nodeResponse = NodeHttpServerRequest.toServerResponse(yield* HttpServerRequest.HttpServerRequest)
          // Half-close after the bytes written so far are flushed: the client sees a body shorter than its
          // `Content-Length`, then the end of the connection.
          const cut = Stream.fromEffect(Effect.sync(() => nodeResponse.socket?.end())).pipe(
            Stream.flatMap(() => Stream.fail("connection dropped by the sandbox"))
          )
          return withBody(response, Stream.concat(bodyStream(response).pipe(takeBytes(afterBytes)), cut))
        })
    })

  const routeOf = (
    method: string,
    path: string
  ): { readonly route: Route; readonly params: ReadonlyArray<string> } | undefined => {
    let match: RegExpExecArray | null
    if (method === "POST" && path === "/oauth/token") return { route: "token", params: [] }
    if (method !== "GET") return undefined
    if (path === "/v3/tasks") return { route: "tasks", params: [] }
    if ((match = /^\/v3\/tasks\/([^/]+)\/download$/.exec(path))) return { route: "download", params: [match[1]!] }
    if ((match = /^\/v3\/tasks\/([^/]+)\/status$/.exec(path))) return { route: "status", params: [match[1]!] }
    if ((match = /^\/files\/exports\/([^/]+)\/([^/]+)$/.exec(path))) {
      return { route: "file", params: [match[1]!, match[2]!] }
    }
    return undefined
  }

  const app = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = new URL(request.url, origin).pathname
    const matched = routeOf(request.method, path)
    let fault: Option.Option<Fault> = Option.none()
    let response: HttpServerResponse.HttpServerResponse
    if (matched === undefined) {
      response = apiError(404, "[route] not found.", "not_found")
    } else {
      const { params, route } = matched
      fault = yield* nextFault(route)
      const normal: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =
        Effect.gen(function*() {
          if (route === "token") return yield* tokenRoute
          if (route === "file") return yield* fileRoute(params[0]!, params[1]!)
          const refused = yield* authenticate
          if (Option.isSome(refused)) return refused.value
          if (route === "tasks") return yield* listRoute
          if (route === "status") return yield* statusRoute(params[0]!)
          return yield* downloadRoute(params[0]!, fault)
        })
      response = Option.isSome(fault)
        ? yield* applyFault(fault.value, normal)
        : yield* normal
    }
    yield* Ref.update(
      log,
      Chunk.append<RecordedRequest>({
        route: matched?.route ?? "unknown",
        method: request.method,
        url: request.url,
        status: response.status,
        authorization: request.headers["authorization"] !== undefined,
        range: request.headers["range"],
        fault: Option.isSome(fault) ? fault.value._tag : undefined
      })
    )
    return response
  })

  yield* HttpServer.serveEffect(app)

  const createTask = (taskOptions: TaskOptions = {}) =>
    Effect.gen(function*() {
      const id = randomUUID() as TaskId.TaskId
      const now = yield* Clock.currentTimeMillis
      const specs = taskOptions.files ?? [{ rows: 1000 }, { rows: 250 }]
      const record: TaskRecord = {
        id,
        seq: (yield* Ref.get(tasks)).length + 1,
        createdAt: now,
        startingFor: Duration.toMillis(taskOptions.startingFor ?? 0),
        runningFor: Duration.toMillis(taskOptions.runningFor ?? 0),
        outcome: taskOptions.outcome ?? "completed",
        files: specs.map((spec, i) => ({
          name: spec.name ?? (i === 0 ? `${id}.csv` : `${id}-${i + 1}.csv`),
          file: { seed: (Number.parseInt(id.slice(0, 8), 16) ^ i) >>> 0, rows: spec.rows ?? 1000 }
        })),
        gzip: taskOptions.gzip ?? false,
        accessible: taskOptions.accessible ?? true,
        description: taskOptions.description ?? "Sandbox entity export"
      }
      yield* Ref.update(tasks, (all) => [...all, record])
      return id
    })

  return Sandbox.of({
    baseUrl: `${origin}/v3`,
    tokenUrl: `${origin}/oauth/token`,
    username,
    password,
    createTask,
    injectFault: (route, fault, schedule) =>
      Ref.update(faults, (rules) => [...rules, { route, fault, applies: ruleTrigger(schedule) }]),
    clearFaults: Ref.set(faults, []),
    expireTokens: Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => Ref.update(tokens, (map) => new Map([...map.keys()].map((token) => [token, now])))
    ),
    requests: Effect.map(Ref.get(log), Chunk.toReadonlyArray),
    clearRequests: Ref.set(log, Chunk.empty())
  })
})

/**
 * A sandbox on 127.0.0.1, on an ephemeral port unless `port` is given. It stops when its scope closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Sandbox, HttpServerError.ServeError> =>
  Layer.scoped(Sandbox, make(options)).pipe(
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port: options.port ?? 0, host: "127.0.0.1" }))
  )
