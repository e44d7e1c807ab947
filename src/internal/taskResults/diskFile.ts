import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { createHash, type Hash } from "node:crypto"
import { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Transfer from "./fileTransfer.js"
import type { Manifest } from "./manifest.js"
import type { Slot } from "./names.js"
import type { FileProgress } from "./progress.js"
import * as SafeFile from "./safeFile.js"
import type { Start } from "./transferRules.js"

/** Bytes gathered before one write: few large writes are what makes the disk side fast. */
const batchBytes = 2 * 1024 * 1024

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
 * A file's bytes on their way to disk: hashed as they arrive, on this thread, as Node's own pipelines do
 * (hashing in a worker thread gave no measurable speed on 2 cores, for a copy of every byte), and copied into
 * one of two buffers of `batchBytes` (less for a smaller file), each written in one call once full. One
 * buffer is written while the other fills; a full buffer waits for the write of the other.
 *
 * Copying costs a pass over the bytes and saves more than it costs: gathering the socket's own chunks
 * instead (one `writev` each batch) kept every chunk alive through the write, long enough for V8 to move it
 * out of the young generation, and a GiB took 25-30 full collections instead of 2 (about 1 s of CPU and
 * 20 MB of peak RSS more). Two buffers reused for the whole file leave nothing for the collector but
 * the chunks, which die young.
 *
 * A write, once started, is finished (uninterruptible): the bytes on disk are always a prefix of the file.
 *
 * @internal
 */
export const batches = (file: Pick<SafeFile.Handle, "write">, scope: Scope.Scope, size: number = batchBytes) => {
  let hash: Hash = createHash("sha256")
  /** The size of the buffers yet to be made: `size`, or what is left of a smaller file. */
  let capacity = size
  let filling: Buffer | undefined
  let spare: Buffer | undefined
  let filled = 0
  let writing: Fiber.Fiber<void, PlatformError.PlatformError> | undefined

  /** Waits for the write under way. */
  const settle = Effect.suspend(() =>
    writing === undefined ? Effect.void : Effect.tap(Fiber.join(writing), () => {
      writing = undefined
    })
  )

  /** Writes the buffer being filled, once the write of the other is done, and fills the other one. */
  const dispatch = Effect.zipRight(
    settle,
    Effect.uninterruptible(Effect.suspend(() => {
      if (filling === undefined || filled === 0) return Effect.void
      const full = filling
      const bytes = full.subarray(0, filled)
      filling = spare
      spare = full
      filled = 0
      return Effect.map(Effect.forkIn(Effect.uninterruptible(file.write(bytes)), scope), (fiber) => {
        writing = fiber
      })
    }))
  )

  /** Copies what fits of `bytes` from `from` on; gives where it stopped. */
  const copy = (bytes: Uint8Array, from: number): number => {
    filling ??= Buffer.allocUnsafe(capacity)
    const n = Math.min(bytes.length - from, filling.length - filled)
    filling.set(n === bytes.length ? bytes : bytes.subarray(from, from + n), filled)
    filled += n
    return from + n
  }

  /** Hashes `bytes` and copies them; an effect only when a buffer is full. */
  const add = (bytes: Uint8Array): Effect.Effect<void, PlatformError.PlatformError> => {
    hash.update(bytes)
    const from = (at: number): Effect.Effect<void, PlatformError.PlatformError> => {
      const to = copy(bytes, at)
      if (filled < filling!.length) return Effect.void
      return to < bytes.length ? Effect.zipRight(dispatch, Effect.suspend(() => from(to))) : dispatch
    }
    return from(0)
  }

  return {
    add,
    /** Sizes the buffers not made yet for a file with `remaining` bytes left to come (when announced). */
    expect: (remaining: number | undefined) => {
      capacity = remaining === undefined ? size : Math.max(1, Math.min(size, remaining))
    },
    /** Hashes bytes already on disk (a resumed file's). */
    hashOnly: (bytes: Uint8Array) => {
      hash.update(bytes)
    },
    /** Writes what is gathered and waits for every write. */
    flush: Effect.zipRight(dispatch, settle),
    /** Drops what was not written yet, and waits for what was; the hash starts over. */
    discard: Effect.suspend(() => {
      filled = 0
      hash = createHash("sha256")
      return settle
    }),
    digest: Effect.sync(() => hash.digest("hex"))
  }
}

/**
 * Whether the bytes of a failed transfer are worth keeping for the next run: some were written, they
 * belong to an entity with a strong validator, and nothing says they are wrong.
 */
const resumable = (written: number, start: Start | undefined, error: unknown): boolean =>
  written > 0 && start?.etag !== undefined && !start.etag.startsWith("W/") &&
  !(error instanceof DownloadError && (error.reason === "SizeMismatch" || error.reason === "EntityChanged"))

/**
 * Writes one file of a task to `target.temp` (created exclusively, never through a link), hashing it on the
 * way, and renames it to `target.final` once every byte announced has arrived from one entity. `resume`
 * continues a temporary file of an earlier run (its bytes are hashed first); it must be a regular file, or
 * the file starts over. The manifest learns the entity before its bytes are written, and the completed file
 * after the rename. When the transfer fails or is interrupted, the bytes received are written and kept if
 * the next run can continue from them, and removed otherwise.
 *
 * @internal
 */
export const write = (options: {
  readonly fs: FileSystem.FileSystem
  readonly env: Transfer.Env
  readonly slot: Slot
  readonly target: Target
  readonly resume: Start | undefined
  readonly manifest: Manifest
  readonly progress: FileProgress
}): Effect.Effect<
  { readonly bytes: number; readonly sha256: string },
  DownloadError | TextRevealClient.ApiError | PlatformError.PlatformError
> => {
  const { env, fs, manifest, progress, slot, target } = options
  return Effect.gen(function*() {
    const resume = options.resume !== undefined && (yield* SafeFile.lstatKind(target.temp)) === "file"
      ? options.resume
      : undefined
    let written = 0
    let last: Start | undefined = resume

    const result = yield* Effect.scoped(Effect.gen(function*() {
      const file = resume === undefined
        ? yield* SafeFile.openFresh(target.temp)
        : yield* SafeFile.openAppend(target.temp)
      const disk = batches(file, yield* Effect.scope)
      if (resume !== undefined) {
        // The bytes kept from an earlier run are hashed first, never written again.
        yield* fs.stream(target.temp, { chunkSize: batchBytes, bytesToRead: resume.offset }).pipe(
          Stream.runForEach((bytes) =>
            Effect.sync(() => {
              written += bytes.length
              disk.hashOnly(bytes)
            })
          )
        )
        if (written !== resume.offset) yield* file.truncate(written)
      }
      const from: Start = resume === undefined
        ? { offset: 0, size: undefined, etag: undefined }
        : { ...resume, offset: written }
      progress.size(from.size)
      progress.add(written)

      const onBytes = (chunk: Chunk.Chunk<Uint8Array>) => {
        let n = 0
        let waits: Effect.Effect<void, PlatformError.PlatformError> | undefined
        for (const bytes of chunk) {
          n += bytes.length
          const wait = disk.add(bytes)
          if (wait !== Effect.void) waits = waits === undefined ? wait : Effect.zipRight(waits, wait)
        }
        written += n
        return waits === undefined ? progress.advance(n) : Effect.zipRight(waits, progress.advance(n))
      }

      const receiver: Transfer.Receiver<PlatformError.PlatformError | DownloadError> = (start) =>
        Effect.gen(function*() {
          if (start.offset === 0 && written > 0) {
            // Started over: the host ignored the range, or the file changed. Nothing kept counts.
            yield* disk.discard
            yield* file.truncate(0)
            written = 0
            progress.restart()
          } else if (start.offset !== written) {
            return yield* new DownloadError({
              fileName: slot.name,
              reason: "SizeMismatch",
              message: `${slot.name}: the file host continued at byte ${start.offset}, not ${written}`
            })
          }
          progress.size(start.size)
          disk.expect(start.size === undefined ? undefined : start.size - start.offset)
          if (start.etag !== last?.etag || start.size !== last?.size) {
            yield* manifest.set({
              name: slot.name,
              source: slot.source,
              state: "partial",
              ...(start.etag === undefined ? {} : { etag: start.etag }),
              ...(start.size === undefined ? {} : { size: start.size })
            })
          }
          last = start
          return onBytes
        })

      const state = yield* Transfer.transfer(env, slot, from, receiver).pipe(
        Effect.onExit((exit) =>
          Exit.isSuccess(exit) ? Effect.void : Effect.ignore(
            resumable(written, last, Option.getOrUndefined(Cause.failureOption(exit.cause)))
              ? disk.flush
              : Effect.zipRight(disk.discard, SafeFile.remove(target.temp))
          )
        )
      )
      yield* disk.flush
      if (state.size !== undefined && written !== state.size) {
        yield* Effect.ignore(SafeFile.remove(target.temp))
        return yield* new DownloadError({
          fileName: slot.name,
          reason: "SizeMismatch",
          message: `${slot.name}: ${written} bytes received of the ${state.size} announced`
        })
      }
      return { bytes: written, sha256: yield* disk.digest, etag: last?.etag }
    }))

    yield* fs.rename(target.temp, target.final)
    yield* manifest.set({
      name: slot.name,
      source: slot.source,
      state: "complete",
      bytes: result.bytes,
      sha256: result.sha256,
      ...(result.etag === undefined ? {} : { etag: result.etag })
    })
    yield* progress.finish
    return { bytes: result.bytes, sha256: result.sha256 }
  })
}
