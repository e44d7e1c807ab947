/**
 * The routes of the sandbox on an `HttpRouter`, each behind the same middleware: faults, then the request
 * log. Targets that are not URLs answer 400 and unknown routes 404, both with the documented body.
 *
 * @internal
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import type * as Sandbox from "../Sandbox.js"
import { authenticated } from "./auth.js"
import * as Faults from "./faults.js"
import { currentBody, RequestLog } from "./requestLog.js"
import * as Responses from "./responses.js"
import * as Files from "./routes/files.js"
import * as Tasks from "./routes/tasks.js"
import * as Token from "./routes/token.js"
import * as Target from "./target.js"

/** The middleware of every route: its injected faults, a 500 for a defect of the sandbox, the log. */
const route = <R>(name: Sandbox.Route, handler: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const fault = yield* (yield* Faults.Faults).next(name)
    const response = yield* (Option.isSome(fault) ? Faults.apply(fault.value, handler) : handler).pipe(
      // A bug of the sandbox answers like a failing API (and is logged), so that the test at hand sees it.
      Effect.catchAllDefect((defect) =>
        Effect.as(
          Effect.logError("effect-textreveal sandbox: defect while answering", defect),
          Responses.apiError(500, "Internal server error", "internal")
        )
      )
    )
    yield* (yield* RequestLog).record(
      request,
      name,
      response.status,
      Option.getOrUndefined(fault)?._tag,
      yield* FiberRef.get(currentBody)
    )
    return response
  })

const exportPaths = [
  "/v3/:r1/export",
  "/v3/:r1/:r2/export",
  "/v3/:r1/:r2/:r3/export",
  "/v3/:r1/:r2/:r3/:r4/export"
] as const

const router = HttpRouter.empty.pipe(
  HttpRouter.post("/oauth/token", route("token", Token.token)),
  HttpRouter.get("/v3/tasks", route("tasks", authenticated(Tasks.list))),
  HttpRouter.get("/v3/tasks/:task_id/status", route("status", authenticated(Tasks.status))),
  HttpRouter.get("/v3/tasks/:task_id/download", route("download", authenticated(Tasks.download))),
  // `HEAD` falls back to these `GET` routes; the platform then sends the headers without the body.
  HttpRouter.get("/files/exports/*", route("file", Files.file)),
  (self) =>
    exportPaths.reduce((r, path) => HttpRouter.post(r, path, route("export", authenticated(Tasks.startExport))), self)
)

/**
 * The sandbox as an `HttpApp`.
 *
 * @internal
 */
export const app = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const log = yield* RequestLog
  const unrouted = (response: HttpServerResponse.HttpServerResponse) =>
    Effect.as(log.record(request, "unknown", response.status, undefined), response)
  if (Option.isNone(Target.parse(request.url))) {
    return yield* unrouted(Responses.apiError(400, "The request target is not a valid URL.", "invalid"))
  }
  return yield* router.pipe(Effect.catchTag("RouteNotFound", () => unrouted(Responses.notFound())))
})
