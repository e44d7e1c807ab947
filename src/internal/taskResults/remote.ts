import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as Take from "effect/Take"
import { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Transfer from "./fileTransfer.js"
import type { Slot } from "./names.js"
import type { Start } from "./transferRules.js"

type StreamError = TextRevealClient.ApiError | DownloadError

/**
 * The bytes of one file as a stream, without the disk: each byte is emitted once, in order, as the consumer
 * pulls (the transfer runs ahead by one chunk at most). When the host starts the file over (it ignored a
 * range, or a cut body had no validator), the bytes already emitted are skipped in the new body if the ETag
 * proves it is the same file; a file that changed (or cannot be proven unchanged) after bytes were emitted
 * is an `EntityChanged` error, since they cannot be taken back.
 *
 * @internal
 */
export const stream = (env: Transfer.Env, slot: Slot): Stream.Stream<Uint8Array, StreamError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const queue = yield* Effect.acquireRelease(
      Queue.bounded<Take.Take<Uint8Array, StreamError>>(1),
      Queue.shutdown
    )
    let emitted = 0
    let first: Start | undefined

    const receiver: Transfer.Receiver<DownloadError> = (start) =>
      Effect.suspend(() => {
        if (start.offset === 0 && emitted > 0 && (first?.etag === undefined || start.etag !== first.etag)) {
          return Effect.fail(
            new DownloadError({
              fileName: slot.name,
              reason: "EntityChanged",
              message: `${slot.name}: the file changed on the host after ${emitted} bytes had been read`
            })
          )
        }
        first ??= start
        let received = start.offset
        return Effect.succeed((chunk: Chunk.Chunk<Uint8Array>) => {
          const out: Array<Uint8Array> = []
          for (const bytes of chunk) {
            const end = received + bytes.length
            if (end > emitted) {
              out.push(received >= emitted ? bytes : bytes.subarray(emitted - received))
              emitted = end
            }
            received = end
          }
          return out.length === 0 ? Effect.void : Queue.offer(queue, Take.chunk(Chunk.unsafeFromArray(out)))
        })
      })

    yield* Transfer.transfer(env, slot, { offset: 0, size: undefined, etag: undefined }, receiver).pipe(
      Effect.exit,
      Effect.flatMap((exit) => Queue.offer(queue, exit._tag === "Success" ? Take.end : Take.failCause(exit.cause))),
      Effect.forkScoped
    )
    return Stream.flattenTake(Stream.fromQueue(queue))
  }))
