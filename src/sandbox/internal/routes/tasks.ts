/**
 * The task endpoints: `GET /tasks`, `GET /tasks/{task_id}/status`, `GET /tasks/{task_id}/download` and
 * `POST /<resource>/export`, answered as documented.
 *
 * @internal
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Wire from "../../../internal/wire.js"
import * as Task from "../../../Task.js"
import { currentFault } from "../faults.js"
import * as Params from "../params.js"
import { currentBody } from "../requestLog.js"
import * as Responses from "../responses.js"
import { Settings } from "../settings.js"
import { Signer } from "../signing.js"
import { finishedAt, statusAt, type TaskRecord, TaskStore } from "../taskStore.js"

/** The task named by the `task_id` path parameter, or the answer that refuses it. */
const findTask: Effect.Effect<
  Either.Either<TaskRecord, HttpServerResponse.HttpServerResponse>,
  never,
  HttpRouter.RouteContext | TaskStore
> = Effect.gen(function*() {
  const params = yield* Effect.either(HttpRouter.schemaPathParams(Params.TaskPath))
  if (Either.isLeft(params)) return Either.left(Responses.invalid(Params.fieldErrors(params.left)))
  const task = yield* (yield* TaskStore).get(params.right.task_id)
  if (Option.isNone(task)) {
    return Either.left(Responses.notFound("The requested task does not exist or is not visible to you."))
  }
  if (!task.value.accessible) return Either.left(Responses.forbidden())
  return Either.right(task.value)
})

/** @internal */
export const status = Effect.gen(function*() {
  const task = yield* findTask
  if (Either.isLeft(task)) return task.left
  return Responses.json(Wire.StatusBody, { status: statusAt(task.right, yield* Clock.currentTimeMillis) })
})

/**
 * The message and field error of a download asked for a task that is not completed. The documented API is
 * silent on it; the field error's `reason` lets clients recognise the case without reading the message.
 *
 * @internal
 */
export const notReady = (status: "starting" | "running" | "failed") =>
  status === "failed"
    ? Responses.apiError(400, failedMessage, "internal", {
      errors: [{ field: "task_id", reason: "task_failed", message: failedMessage }]
    })
    : Responses.invalid(
      [{ field: "task_id", reason: "task_not_completed", message: notCompletedMessage(status) }],
      notCompletedMessage(status)
    )

const failedMessage = "An error occured while processing the task."
const notCompletedMessage = (status: string) => `The task is not completed yet (status: ${status}).`

/** @internal */
export const download = Effect.gen(function*() {
  const found = yield* findTask
  if (Either.isLeft(found)) return found.left
  const task = found.right
  const now = yield* Clock.currentTimeMillis
  const status = statusAt(task, now)
  if (status !== "completed") return notReady(status)
  const settings = yield* Settings
  const signer = yield* Signer
  const fault = yield* FiberRef.get(currentFault)
  const validity = Option.isSome(fault) && fault.value._tag === "ExpireEarly"
    ? fault.value.after ?? Duration.zero
    : settings.urlValidity
  const expiresAt = now + Duration.toMillis(validity)
  return Responses.json(
    Wire.DownloadUrlsBody,
    task.files.map((file) => ({ url: settings.origin + signer.sign(file.path, expiresAt), fileName: file.name }))
  )
})

/** Compares two tasks by one sort key; a task not finished has no `completed_at` and sorts last. */
const compareBy = (key: string, now: number) => (a: TaskRecord, b: TaskRecord): number => {
  const [field, direction] = key.split(":") as [string, string]
  const sign = direction === "asc" ? 1 : -1
  switch (field) {
    case "completed_at": {
      const done = (t: TaskRecord) => {
        const s = statusAt(t, now)
        return s === "completed" || s === "failed"
      }
      if (done(a) !== done(b)) return done(a) ? -1 : 1
      return done(a) ? sign * (finishedAt(a) - finishedAt(b)) : 0
    }
    case "status":
      return sign * statusAt(a, now).localeCompare(statusAt(b, now))
    default:
      return sign * (a.createdAt - b.createdAt)
  }
}

/** @internal */
export const list = Effect.gen(function*() {
  const query = yield* Effect.either(HttpServerRequest.schemaSearchParams(Params.ListQuery))
  if (Either.isLeft(query)) return Responses.invalid(Params.fieldErrors(query.left))
  const { fields = [], order = ["created_at:desc"], search_after, size = 10 } = query.right
  const now = yield* Clock.currentTimeMillis
  const keys = order.map((key) => compareBy(key, now))
  // Ties (tasks created in the same millisecond) follow creation order in the first key's direction.
  const tieBreak = order[0]!.endsWith(":asc") ? 1 : -1
  const ordered = (yield* (yield* TaskStore).all)
    .filter((t) => t.accessible)
    .sort((a, b) => {
      for (const compare of keys) {
        const c = compare(a, b)
        if (c !== 0) return c
      }
      return tieBreak * (a.seq - b.seq)
    })
  let start = 0
  if (search_after !== undefined) {
    const at = ordered.findIndex((t) => t.seq === search_after)
    if (at === -1) {
      return Responses.invalid([{ field: "search_after", reason: "invalid_string", message: "Invalid cursor" }])
    }
    start = at + 1
  }
  const page = ordered.slice(start, start + size)
  const hasNext = start + size < ordered.length
  const wanted = (field: Task.TaskField) => fields.length === 0 || fields.includes(field)
  const data = page.map((t) => {
    const status = statusAt(t, now)
    const done = status === "completed" || status === "failed"
    return new Task.Task({
      id: t.id,
      ...(wanted("status") ? { status } : {}),
      ...(wanted("description") ? { description: t.description } : {}),
      ...(wanted("type") ? { type: "export" } : {}),
      ...(wanted("created_at") ? { created_at: DateTime.unsafeMake(t.createdAt) } : {}),
      ...(wanted("completed_at") ? { completed_at: done ? DateTime.unsafeMake(finishedAt(t)) : null } : {})
    })
  })
  return Responses.json(Wire.TaskListBody, {
    data,
    size: page.length,
    has_next: hasNext,
    count: ordered.length,
    search_after: hasNext && page.length > 0 ? String(page[page.length - 1]!.seq) : null
  })
})

const decodeExportBody = Schema.decodeUnknownEither(Schema.parseJson(Wire.ExportRequestBody))

/** The largest export body read: filters and field lists, never megabytes. */
const maxExportBody = 1024 * 1024

/**
 * `POST /<resource>/export`: reads the JSON object of the body (an empty body is `{}`; anything else is a 400
 * with a field error on `body`), then starts a task (as configured by `exportTask`) and answers its id. Only
 * one export runs at a time per account, as documented: while a task is starting or running, 429.
 *
 * @internal
 */
export const startExport = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const text = yield* Effect.either(request.text)
  const raw = Either.isRight(text) ? text.right : undefined
  const body: Either.Either<Readonly<Record<string, unknown>>, unknown> =
    raw === undefined || raw.length > maxExportBody
      ? Either.left("unreadable")
      : raw.trim() === ""
      ? Either.right({})
      : decodeExportBody(raw)
  if (Either.isLeft(body)) {
    return Responses.invalid([{ field: "body", reason: "invalid_json", message: "Expected a JSON object" }])
  }
  yield* FiberRef.set(currentBody, body.right)
  const store = yield* TaskStore
  const now = yield* Clock.currentTimeMillis
  const busy = (yield* store.all).some((t) => {
    const s = statusAt(t, now)
    return t.accessible && (s === "starting" || s === "running")
  })
  if (busy) return Responses.apiError(429, "You have too many exports in progress.", "too_many_requests")
  const task = yield* store.create((yield* Settings).exportTask)
  return Responses.json(Wire.ExportStartedBody, { task_id: task.id })
})
