/**
 * Injected faults: the rules of each route, and the middleware that answers with a fault instead of (or on
 * top of) the normal answer.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { Readable } from "node:stream"
import type * as Sandbox from "../Sandbox.js"
import type * as Options from "./options.js"
import * as Responses from "./responses.js"

interface Rule {
  readonly route: Sandbox.Route
  readonly fault: Options.FaultConfig
  /** Whether the rule applies to the request at hand; consumes one of its `times`, or draws a number. */
  readonly applies: Effect.Effect<boolean>
}

/** @internal */
export interface Service {
  readonly add: (rule: Options.FaultRuleConfig) => Effect.Effect<void>
  readonly clear: Effect.Effect<void>
  /** The fault for the next request of a route: the first rule, in injection order, that applies. */
  readonly next: (route: Sandbox.Route) => Effect.Effect<Option.Option<Options.FaultConfig>>
}

/** @internal */
export class Faults extends Context.Tag("effect-textreveal/sandbox/internal/Faults")<Faults, Service>() {}

/** @internal */
export const make = Effect.map(Ref.make<ReadonlyArray<Rule>>([]), (rules) => {
  const trigger = (schedule: Options.FaultRuleConfig["schedule"]): Effect.Effect<Effect.Effect<boolean>> => {
    if (schedule._tag === "Rate") {
      // One generator per rule, seeded, so that the same seed faults the same requests on every run.
      const random = Random.make(schedule.seed)
      return Effect.succeed(Effect.map(random.next, (x) => x < schedule.rate))
    }
    return Effect.map(
      Ref.make(schedule.times),
      (remaining) => Ref.modify(remaining, (n) => [n > 0, Math.max(0, n - 1)] as const)
    )
  }
  return Faults.of({
    add: (rule) =>
      Effect.flatMap(
        trigger(rule.schedule),
        (applies) => Ref.update(rules, (all) => [...all, { route: rule.route, fault: rule.fault, applies }])
      ),
    clear: Ref.set(rules, []),
    next: (route) =>
      Effect.flatMap(
        Ref.get(rules),
        (all) =>
          Effect.findFirst(all, (rule) => rule.route === route ? rule.applies : Effect.succeed(false)).pipe(
            Effect.map(Option.map((rule) => rule.fault))
          )
      )
  })
})

/**
 * The fault applied to the request at hand, for the faults that change the normal answer from inside
 * (`ExpireEarly` on the download route, `ChangeEtag` on the file host).
 *
 * @internal
 */
export const currentFault = FiberRef.unsafeMake<Option.Option<Options.FaultConfig>>(Option.none())

// ---- response bodies

const bodyStream = (response: HttpServerResponse.HttpServerResponse): Stream.Stream<Uint8Array, unknown> => {
  const body = response.body
  switch (body._tag) {
    case "Uint8Array":
      return Stream.make(body.body)
    case "Stream":
      return body.stream
    case "Raw":
      // The file host pipes files cached on disk as a Node stream.
      return body.body instanceof Readable
        ? NodeStream.fromReadable(() => body.body as Readable, (error) => error)
        : Stream.empty
    default:
      return Stream.empty
  }
}

const bodyLength = (response: HttpServerResponse.HttpServerResponse): number | undefined => {
  const body = response.body
  return body._tag === "Uint8Array" ? body.body.length : body.contentLength
}

/** The same response with another body stream; the announced `Content-Length` stays. */
const withBody = (response: HttpServerResponse.HttpServerResponse, stream: Stream.Stream<Uint8Array, unknown>) => {
  const length = bodyLength(response)
  return HttpServerResponse.stream(stream, {
    status: response.status,
    headers: response.headers,
    contentType: response.body._tag === "Empty" ? undefined : response.body.contentType,
    ...(length === undefined ? {} : { contentLength: length })
  })
}

/** Splits a byte stream into pieces of at most `size` bytes (`size` >= 1, checked at injection). */
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

const tooMany = "You have too many exports in progress."

/**
 * Answers a request with `fault`, running the normal answer `normal` when the fault needs it.
 *
 * @internal
 */
export const apply = <R>(
  fault: Options.FaultConfig,
  normal: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> => {
  switch (fault._tag) {
    case "TooManyRequests":
      return Effect.succeed(Responses.apiError(429, tooMany, "too_many_requests", {
        ...(fault.retryAfter === undefined ? {} : { headers: { "retry-after": String(fault.retryAfter) } })
      }))
    case "ServerError": {
      const status = fault.status ?? 500
      return Effect.succeed(
        fault.html === true
          ? Responses.htmlPage(status)
          : Responses.apiError(status, "Internal server error", "internal")
      )
    }
    case "MalformedJson":
      return Effect.succeed(
        HttpServerResponse.text("[\"https://files.textreveal.com/exp", { contentType: "application/json" })
      )
    case "WrongShape":
      return Effect.succeed(HttpServerResponse.unsafeJson({ urls: [], status: "ok" }))
    case "ExpireEarly":
    case "ChangeEtag":
      return Effect.locally(normal, currentFault, Option.some(fault))
    case "SlowBody":
      return Effect.map(normal, (response) =>
        withBody(
          response,
          bodyStream(response).pipe(rechunkBytes(fault.chunkSize ?? 1024), Stream.tap(() => Effect.sleep(fault.delay)))
        ))
    case "DropConnection":
      return Effect.gen(function*() {
        const response = yield* normal
        const nodeResponse = NodeHttpServerRequest.toServerResponse(yield* HttpServerRequest.HttpServerRequest)
        // Half-close once the bytes written so far are flushed: the client sees a body shorter than its
        // `Content-Length`, then the end of the connection.
        const cut = Stream.fromEffect(Effect.sync(() => nodeResponse.socket?.end())).pipe(
          Stream.flatMap(() => Stream.fail("connection dropped by the sandbox"))
        )
        return withBody(response, Stream.concat(bodyStream(response).pipe(takeBytes(fault.afterBytes)), cut))
      })
  }
}
