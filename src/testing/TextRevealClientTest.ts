/**
 * An in-memory `TextRevealClient` for testing code that uses the client: it answers from data the test
 * gives and records the calls it received. No HTTP, no sockets.
 *
 * @since 0.1.0
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as Ref from "effect/Ref"
import * as DownloadUrl from "../DownloadUrl.js"
import { validateTaskId } from "../internal/validateTaskId.js"
import * as TextRevealClient from "../TextRevealClient.js"
import * as TextRevealError from "../TextRevealError.js"

/**
 * One answer: the signed URLs to return, or the error to fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type Answer = ReadonlyArray<string> | TextRevealError.TextRevealError | HttpClientError.HttpClientError

const SequenceTypeId: unique symbol = Symbol.for("effect-textreveal/testing/TextRevealClientTest/Sequence")

/**
 * Answers given one per call, in order; the last one repeats.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sequence {
  readonly [SequenceTypeId]: typeof SequenceTypeId
  readonly answers: readonly [Answer, ...Array<Answer>]
}

/**
 * Answers a task's calls in turn, e.g. `sequence(new TooManyRequests({ ... }), ["https://…/a.csv"])`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sequence = (...answers: readonly [Answer, ...Array<Answer>]): Sequence => ({
  [SequenceTypeId]: SequenceTypeId,
  answers
})

/**
 * A call the client received.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly method: "getDownloadUrls"
  readonly taskId: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The calls received so far, oldest first. Calls refused for a malformed task id are included. */
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
}

/**
 * The recorder of calls, provided next to the client by {@link layer}.
 *
 * @since 0.1.0
 * @category tags
 */
export class TextRevealClientTest
  extends Context.Tag("effect-textreveal/testing/TextRevealClientTest")<TextRevealClientTest, Service>()
{}

const isSequence = (u: unknown): u is Sequence => Predicate.hasProperty(u, SequenceTypeId)

/**
 * A `TextRevealClient` answering from `tasks`, keyed by task id; a task that is not there answers
 * `NotFound`, and a task id that is not a UUID `Invalid`, as the real client does. URLs expire 5 minutes
 * after the call, by `Clock`. Also provides {@link TextRevealClientTest} to read the calls received.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  tasks: Readonly<Record<string, Answer | Sequence>>
): Layer.Layer<TextRevealClient.TextRevealClient | TextRevealClientTest> =>
  Layer.effectContext(Effect.gen(function*() {
    const calls = yield* Ref.make(Chunk.empty<Call>())
    const served = yield* Ref.make(new Map<string, number>())

    const answerFor = (taskId: string) =>
      Ref.modify(served, (counts): [Answer | undefined, Map<string, number>] => {
        const given = tasks[taskId]
        const n = counts.get(taskId) ?? 0
        const next = new Map(counts).set(taskId, n + 1)
        if (!isSequence(given)) return [given, next]
        return [given.answers[Math.min(n, given.answers.length - 1)], next]
      })

    const getDownloadUrls = Effect.fn("TextRevealClientTest.getDownloadUrls")(function*(taskId: string) {
      yield* Ref.update(calls, Chunk.append<Call>({ method: "getDownloadUrls", taskId }))
      yield* validateTaskId(taskId)
      const answer = yield* answerFor(taskId)
      if (answer === undefined) {
        return yield* new TextRevealError.NotFound({
          status: 404,
          message: "The requested task does not exist or is not visible to you.",
          reason: "not_found"
        })
      }
      if (!Array.isArray(answer)) return yield* Effect.fail(answer as Exclude<Answer, ReadonlyArray<string>>)
      // URLs that are not URLs are a mistake in the test itself, not a failure the code under test handles.
      return yield* Effect.orDieWith(
        DownloadUrl.decodeBody(answer, yield* DateTime.now),
        (error) => `TextRevealClientTest: the URLs given for task ${taskId} are not valid: ${error.message}`
      )
    })

    return Context.make(TextRevealClient.TextRevealClient, TextRevealClient.TextRevealClient.of({ getDownloadUrls }))
      .pipe(Context.add(TextRevealClientTest, { calls: Effect.map(Ref.get(calls), Chunk.toReadonlyArray) }))
  }))
