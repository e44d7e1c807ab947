/**
 * The log of the requests the sandbox received. It records whether an `Authorization` header was sent,
 * never its value.
 *
 * @internal
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Ref from "effect/Ref"
import type * as Sandbox from "../Sandbox.js"

/** @internal */
export interface Service {
  readonly record: (
    request: HttpServerRequest.HttpServerRequest,
    route: Sandbox.RecordedRequest["route"],
    status: number,
    fault: Sandbox.Fault["_tag"] | undefined,
    body?: unknown
  ) => Effect.Effect<void>
  readonly entries: Effect.Effect<ReadonlyArray<Sandbox.RecordedRequest>>
  readonly clear: Effect.Effect<void>
}

/** @internal */
export class RequestLog extends Context.Tag("effect-textreveal/sandbox/internal/RequestLog")<RequestLog, Service>() {}

/**
 * The JSON body a route read from its request (an export request's), set by the route for the log.
 *
 * @internal
 */
export const currentBody = FiberRef.unsafeMake<unknown>(undefined)

/** @internal */
export const make = Effect.map(Ref.make(Chunk.empty<Sandbox.RecordedRequest>()), (log) =>
  RequestLog.of({
    record: (request, route, status, fault, body) =>
      Ref.update(
        log,
        Chunk.append<Sandbox.RecordedRequest>({
          route,
          method: request.method,
          url: request.url,
          status,
          authorization: request.headers["authorization"] !== undefined,
          range: request.headers["range"],
          fault,
          ...(body === undefined ? {} : { body })
        })
      ),
    entries: Effect.map(Ref.get(log), Chunk.toReadonlyArray),
    clear: Ref.set(log, Chunk.empty())
  }))
