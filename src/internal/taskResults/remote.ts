import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Transfer from "./fileTransfer.js"
import type { Slot } from "./names.js"
import { initialState } from "./signedUrls.js"

/**
 * The bytes of one file as a stream, without the disk: each byte is emitted once, in order. When the host
 * starts the file over (it ignored a range), the bytes already emitted are skipped in the new body if the
 * ETag proves it is the same file; a file that changed (or cannot be proven unchanged) after bytes were
 * emitted is an `EntityChanged` error, since they cannot be taken back.
 *
 * @internal
 */
export const stream = (
  env: Transfer.Env,
  slot: Slot
): Stream.Stream<Uint8Array, TextRevealClient.ApiError | DownloadError> =>
  Stream.suspend(() => {
    let emitted = 0
    let received = 0
    let etag: string | undefined
    let first = true
    return Transfer.transfer(env, slot, initialState(), { offset: 0, etag: undefined, size: undefined }).pipe(
      Stream.mapChunksEffect((events) => {
        const out: Array<Uint8Array> = []
        for (const event of events) {
          if (Transfer.isStart(event)) {
            if (event.offset === 0 && !first && emitted > 0 && (etag === undefined || event.etag !== etag)) {
              return Effect.fail(
                new DownloadError({
                  fileName: slot.name,
                  reason: "EntityChanged",
                  message: `${slot.name}: the file changed on the host after ${emitted} bytes had been read`
                })
              )
            }
            if (first) etag = event.etag
            first = false
            received = event.offset
            continue
          }
          const end = received + event.length
          if (end > emitted) {
            out.push(received >= emitted ? event : event.subarray(emitted - received))
            emitted = end
          }
          received = end
        }
        return Effect.succeed(Chunk.unsafeFromArray(out))
      })
    )
  })
