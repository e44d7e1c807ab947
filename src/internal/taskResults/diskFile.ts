import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Transfer from "./fileTransfer.js"
import * as Hasher from "./hashWorker.js"
import type { Manifest } from "./manifest.js"
import type { Slot } from "./names.js"
import type { FileProgress } from "./progress.js"
import * as SafeFile from "./safeFile.js"
import type { Start } from "./transferRules.js"

/** Bytes gathered before one write: few large writes are what makes the disk side fast. */
const slotBytes = 2 * 1024 * 1024
/** Slots of `slotBytes`: one filling, one being written and hashed, one waiting for its turn to be written. */
const slotCount = 3
/**
 * Files announced at least this large are hashed in a worker thread; smaller ones (and those of unknown size)
 * on this one, where starting a thread would cost more than it saves.
 */
const workerFrom = 32 * 1024 * 1024

/**
 * Where a file goes: its temporary name while written, its final name once complete.
 *
 * @internal
 */
export interface Target {
  readonly temp: string
  readonly final: string
}

interface Busy {
  readonly hashed: Effect.Effect<void, PlatformError.PlatformError>
  readonly written: Fiber.Fiber<void, PlatformError.PlatformError> | undefined
}

const done = (busy: Busy | undefined): Effect.Effect<void, PlatformError.PlatformError> =>
  busy === undefined
    ? Effect.void
    : busy.written === undefined
    ? busy.hashed
    : Effect.zipRight(Fiber.join(busy.written), busy.hashed)

/**
 * Bytes copied into a few fixed slots (the only copy), each handed as a whole to the hasher and to the file:
 * the thread that reads the socket only copies, while the slots before are hashed (in a worker thread for a
 * large file) and written (in order, one at a time). A slot is refilled only once both are done; a write,
 * once started, is finished (uninterruptible): the bytes on disk are always a prefix of the file.
 */
const slots = (file: SafeFile.Handle, scope: Scope.Scope, path: string) => {
  let views: Array<Uint8Array> = []
  let capacity = 0
  const busy: Array<Busy | undefined> = Array.from({ length: slotCount }, () => undefined)
  let current = 0
  let pending = 0
  let lastWrite: Fiber.Fiber<void, PlatformError.PlatformError> | undefined
  let hasher: Hasher.Hasher | undefined

  /**
   * A new hash from here on (the file starts over, every slot idle): in a worker, over shared memory, when `size`
   * is large enough; otherwise here, over slots no larger than the file (many small files stay small).
   */
  const rehash = (size: number | undefined) => {
    const shared = size !== undefined && size >= workerFrom
    capacity = shared ? slotBytes : Math.max(1, Math.min(slotBytes, size ?? slotBytes))
    const memory = shared ? new SharedArrayBuffer(slotCount * capacity) : undefined
    views = Array.from(
      { length: slotCount },
      (_, i) => memory === undefined ? Buffer.allocUnsafe(capacity) : new Uint8Array(memory, i * capacity, capacity)
    )
    current = 0
    pending = 0
    return Effect.map(Scope.extend(Hasher.make(memory, path), scope), (made) => {
      hasher = made
    })
  }

  const hasherOf = (size: number | undefined) => hasher === undefined ? Effect.as(rehash(size), undefined) : Effect.void

  /** Hands the slot being filled to the hasher, and to the file when `write`; the next slot is waited for. */
  const dispatch = (write: boolean): Effect.Effect<void, PlatformError.PlatformError> =>
    Effect.gen(function*() {
      if (pending === 0) return
      yield* hasherOf(undefined)
      const bytes = views[current]!.subarray(0, pending)
      const hashed = yield* hasher!.update(bytes)
      let written: Fiber.Fiber<void, PlatformError.PlatformError> | undefined
      if (write) {
        const before = lastWrite
        written = yield* Effect.forkIn(
          Effect.uninterruptible(
            before === undefined ? file.write(bytes) : Effect.zipRight(Fiber.join(before), file.write(bytes))
          ),
          scope
        )
        lastWrite = written
      }
      busy[current] = { hashed, written }
      pending = 0
      current = (current + 1) % slotCount
      const next = busy[current]
      busy[current] = undefined
      yield* done(next)
    })

  /** Copies `bytes` into the slots; an effect only when a slot is full (once per slot's capacity). */
  const add = (bytes: Uint8Array, write: boolean): Effect.Effect<void, PlatformError.PlatformError> => {
    if (hasher === undefined) return Effect.zipRight(hasherOf(undefined), Effect.suspend(() => add(bytes, write)))
    if (pending + bytes.length < capacity) {
      views[current]!.set(bytes, pending)
      pending += bytes.length
      return Effect.void
    }
    const take = capacity - pending
    views[current]!.set(bytes.subarray(0, take), pending)
    pending = capacity
    return take === bytes.length
      ? dispatch(write)
      : Effect.zipRight(dispatch(write), Effect.suspend(() => add(bytes.subarray(take), write)))
  }

  /** Waits for every slot handed over. */
  const settle = Effect.suspend(() => {
    const all = busy.map(done)
    busy.fill(undefined)
    lastWrite = undefined
    return Effect.all(all, { discard: true })
  })

  /** Hands over what is pending and waits for all of it. */
  const flush = (write: boolean) => Effect.zipRight(dispatch(write), settle)

  /** Drops what was not handed over yet, and waits for what was; the hash starts over. */
  const discard = Effect.suspend(() => {
    pending = 0
    hasher = undefined
    return settle
  })

  const digest = Effect.suspend(() => Effect.flatMap(hasherOf(undefined), () => hasher!.digest))

  return { add, flush, discard, hasherOf, digest }
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
        ? yield* Effect.zipRight(SafeFile.remove(target.temp), SafeFile.openExclusive(target.temp))
        : yield* SafeFile.openAppend(target.temp)
      const disk = slots(file, yield* Effect.scope, target.temp)
      if (resume !== undefined) {
        // The bytes kept from an earlier run are hashed first (through the slots, never written again).
        yield* disk.hasherOf(resume.size)
        yield* fs.stream(target.temp, { chunkSize: slotBytes, bytesToRead: resume.offset }).pipe(
          Stream.runForEach((bytes) => {
            written += bytes.length
            return disk.add(bytes, false)
          })
        )
        yield* disk.flush(false)
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
          const wait = disk.add(bytes, true)
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
          if (written === 0) yield* disk.hasherOf(start.size)
          progress.size(start.size)
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
          return Sink.forEachChunk(onBytes)
        })

      const state = yield* Transfer.transfer(env, slot, from, receiver).pipe(
        Effect.onExit((exit) =>
          Exit.isSuccess(exit) ? Effect.void : Effect.ignore(
            resumable(written, last, Option.getOrUndefined(Cause.failureOption(exit.cause)))
              ? disk.flush(true)
              : Effect.zipRight(disk.discard, SafeFile.remove(target.temp))
          )
        )
      )
      yield* disk.flush(true)
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
