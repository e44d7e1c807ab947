import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { createHash, type Hash } from "node:crypto"
import { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Transfer from "./fileTransfer.js"
import type { Manifest } from "./manifest.js"
import type { Slot } from "./names.js"
import type { FileProgress } from "./progress.js"
import type { UrlState } from "./signedUrls.js"

/** Bytes gathered before one write: few large writes are what makes the disk side fast. */
const batchBytes = 4 * 1024 * 1024

/**
 * Where a file goes: its temporary name while written, its final name once complete.
 *
 * @internal
 */
export interface Target {
  readonly temp: string
  readonly final: string
}

/**
 * Writes one file of a task to `target.temp`, hashing it on the way, and renames it to `target.final` once
 * every byte announced has arrived from one entity. `resume` continues a temporary file of an earlier run
 * (its bytes are hashed first). The manifest learns the entity before its bytes are written, and the
 * completed file after the rename. Bytes received when the download fails or is interrupted are written
 * before it ends: the next run continues from them.
 *
 * @internal
 */
export const write = (options: {
  readonly fs: FileSystem.FileSystem
  readonly env: Transfer.Env
  readonly slot: Slot
  readonly url: UrlState
  readonly target: Target
  readonly resume: Transfer.From | undefined
  readonly manifest: Manifest
  readonly progress: FileProgress
}): Effect.Effect<
  { readonly bytes: number; readonly sha256: string },
  DownloadError | TextRevealClient.ApiError | PlatformError.PlatformError
> => {
  const { env, fs, manifest, progress, resume, slot, target } = options
  return Effect.gen(function*() {
    let hash: Hash = createHash("sha256")
    if (resume !== undefined) {
      yield* fs.stream(target.temp, { chunkSize: batchBytes }).pipe(
        Stream.runForEach((bytes) => Effect.sync(() => hash.update(bytes)))
      )
    }
    const from: Transfer.From = resume ?? { offset: 0, etag: undefined, size: undefined }
    let written = from.offset
    /** Bytes gathered in the buffer being filled, not yet written. */
    let pendingBytes = 0
    let etag = from.etag
    let size = from.size
    progress.size(size)
    progress.add(written)

    const result = yield* Effect.scoped(Effect.gen(function*() {
      // Append mode: every write lands after the bytes before it, whatever happened to the fiber.
      const file = yield* fs.open(target.temp, { flag: "a" })
      const scope = yield* Effect.scope
      if (resume === undefined) yield* file.truncate(0)

      // Two buffers: one is written while the other fills, so that the disk and the network overlap, and
      // no memory is allocated per batch. A write, once started, is finished (uninterruptible): the bytes on
      // disk are always a prefix of the file, and a buffer is refilled only once its write is done.
      let filling = Buffer.allocUnsafe(batchBytes)
      let spare = Buffer.allocUnsafe(batchBytes)
      let writing: Fiber.Fiber<void, PlatformError.PlatformError> | undefined
      const settle = Effect.suspend(() => {
        const fiber = writing
        writing = undefined
        return fiber === undefined ? Effect.void : Fiber.join(fiber)
      })
      const flush = Effect.suspend(() => {
        if (pendingBytes === 0) return settle
        const batch = filling.subarray(0, pendingBytes)
        written += pendingBytes
        pendingBytes = 0
        const next = spare
        spare = filling
        filling = next
        return Effect.zipRight(
          settle,
          Effect.map(Effect.forkIn(Effect.uninterruptible(file.writeAll(batch)), scope), (fiber) => {
            writing = fiber
          })
        )
      })

      const start = Effect.fnUntraced(function*(event: Transfer.Start) {
        if (event.offset === 0 && written + pendingBytes > 0) {
          // Started over: the host ignored the range, or the file changed. Nothing kept counts.
          pendingBytes = 0
          written = 0
          hash = createHash("sha256")
          progress.restart()
          yield* settle
          yield* file.truncate(0)
        } else if (event.offset !== written + pendingBytes) {
          return yield* new DownloadError({
            fileName: slot.name,
            reason: "SizeMismatch",
            message: `${slot.name}: the file host continued at byte ${event.offset}, not ${written + pendingBytes}`
          })
        }
        progress.size(event.size)
        if (event.etag !== etag || event.size !== size) {
          etag = event.etag
          size = event.size
          yield* manifest.set({
            name: slot.name,
            source: slot.source,
            state: "partial",
            ...(etag === undefined ? {} : { etag }),
            ...(size === undefined ? {} : { size })
          })
        }
      })

      /** Copies `bytes` from `at` into the buffers, writing each one that fills (rare: a chunk larger than one). */
      const fill = (bytes: Uint8Array, at: number): Effect.Effect<void, PlatformError.PlatformError> => {
        while (at < bytes.length) {
          const take = Math.min(bytes.length - at, batchBytes - pendingBytes)
          filling.set(take === bytes.length ? bytes : bytes.subarray(at, at + take), pendingBytes)
          pendingBytes += take
          at += take
          if (pendingBytes === batchBytes) {
            if (at === bytes.length) return flush
            const rest = at
            return Effect.zipRight(flush, Effect.suspend(() => fill(bytes, rest)))
          }
        }
        return Effect.void
      }

      // Synchronous for every chunk: hashed and copied into the buffer being filled; an Effect only when a
      // buffer is full (a write to start, the one before to finish) or progress is due.
      const onBytes = (chunk: Chunk.Chunk<Uint8Array>): Effect.Effect<void, PlatformError.PlatformError> => {
        let n = 0
        let waits: Effect.Effect<void, PlatformError.PlatformError> | undefined
        for (const bytes of chunk) {
          hash.update(bytes)
          n += bytes.length
          if (waits === undefined && pendingBytes + bytes.length < batchBytes) {
            filling.set(bytes, pendingBytes)
            pendingBytes += bytes.length
          } else if (waits === undefined) {
            waits = fill(bytes, 0)
          } else {
            waits = Effect.zipRight(waits, Effect.suspend(() => fill(bytes, 0)))
          }
        }
        const advance = n > 0 ? progress.advance(n) : Effect.void
        if (waits === undefined) return advance
        return advance === Effect.void ? waits : Effect.zipRight(waits, advance)
      }

      yield* Transfer.receive(env, slot, options.url, from, { start, bytes: onBytes }).pipe(
        // The bytes received are the file's from `written` on whatever ended the transfer: keep them for the
        // next run. A failure to write them is not this download's error (that one is already reported).
        Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Effect.ignore(Effect.zipRight(flush, settle)))
      )
      yield* flush
      yield* settle
      if (size !== undefined && written !== size) {
        return yield* new DownloadError({
          fileName: slot.name,
          reason: "SizeMismatch",
          message: `${slot.name}: ${written} bytes received of the ${size} announced`
        })
      }
      return { bytes: written, sha256: hash.digest("hex") }
    }))

    yield* fs.rename(target.temp, target.final)
    yield* manifest.set({
      name: slot.name,
      source: slot.source,
      state: "complete",
      bytes: result.bytes,
      sha256: result.sha256,
      ...(etag === undefined ? {} : { etag })
    })
    yield* progress.finish
    return result
  })
}
