import { type PlatformError, SystemError, type SystemErrorReason } from "@effect/platform/Error"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as NodeFs from "node:fs"
import * as Fsp from "node:fs/promises"

/*
 * Files in a directory other local users may write to: none of these follows a symbolic link at the last
 * component of its path (an open fails instead, a removal removes the link itself), so a link planted at a
 * file's name can neither make us read another file nor write through it. The platform's `FileSystem` has no
 * `lstat` and opens with string flags only, hence `node:fs` here.
 */

const { constants } = NodeFs
// `O_NOFOLLOW` and `O_NONBLOCK` are POSIX flags, absent on Windows, where links need privileges to make.
const noFollow: number = constants.O_NOFOLLOW ?? 0
// Opening a FIFO planted at the name would wait for its other end: non-blocking, it fails or opens at once
// (and is then refused as not a regular file). It changes nothing for regular files.
const noBlock: number = constants.O_NONBLOCK ?? 0

const reasonOf = (code: string | undefined): SystemErrorReason => {
  switch (code) {
    case "ENOENT":
      return "NotFound"
    case "EACCES":
    case "EPERM":
      return "PermissionDenied"
    case "EEXIST":
      return "AlreadyExists"
    case "EISDIR":
    case "ENOTDIR":
    case "ELOOP":
    case "EMLINK":
    case "ENXIO":
      return "BadResource"
    case "EBUSY":
      return "Busy"
    case "EAGAIN":
      return "WouldBlock"
    default:
      return "Unknown"
  }
}

const codeOf = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined

/**
 * A Node file system error as the platform's `SystemError`, as its `NodeFileSystem` maps them.
 *
 * @internal
 */
export const systemError = (method: string, path: string) => (cause: unknown): PlatformError =>
  new SystemError({
    reason: reasonOf(codeOf(cause)),
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    ...(cause instanceof Error ? { description: cause.message } : {}),
    ...(typeof cause === "object" && cause !== null && "syscall" in cause && typeof cause.syscall === "string"
      ? { syscall: cause.syscall }
      : {}),
    cause
  })

const attempt = <A>(method: string, path: string, f: () => Promise<A>): Effect.Effect<A, PlatformError> =>
  Effect.tryPromise({ try: f, catch: systemError(method, path) })

/** `attempt`, not interrupted once started: the promise runs to its end either way. */
const attemptOnce = <A>(method: string, path: string, f: () => Promise<A>): Effect.Effect<A, PlatformError> =>
  Effect.uninterruptible(attempt(method, path, f))

/** Settles a missing file as `undefined`, any other error as itself. */
const missing = (error: unknown): Promise<undefined> =>
  codeOf(error) === "ENOENT" ? Promise.resolve(undefined) : Promise.reject(error)

/**
 * What is at `path`, without following a link there: a regular `"file"`, nothing (`"missing"`), or
 * `"other"` (a link, a directory, a FIFO...).
 *
 * @internal
 */
export const lstatKind = (path: string): Effect.Effect<"file" | "missing" | "other", PlatformError> =>
  attempt("lstat", path, () =>
    Fsp.lstat(path).then(
      (stats) => stats.isFile() ? "file" : "other",
      (error) => missing(error).then(() => "missing" as const)
    ))

/**
 * Removes whatever is at `path` (a link itself, never its target); nothing there is fine. A directory is
 * removed only when empty.
 *
 * @internal
 */
export const remove = (path: string): Effect.Effect<void, PlatformError> =>
  attempt("remove", path, async () => {
    const stats = await Fsp.lstat(path).catch(missing)
    if (stats === undefined) return
    // `rmdir` on a link fails: if a directory was swapped for a link since `lstat`, nothing is followed.
    await (stats.isDirectory() ? Fsp.rmdir(path) : Fsp.unlink(path)).catch(missing)
  })

/**
 * Removes what is at `path` unless it is a regular file (see `remove`). Gives whether something was removed.
 *
 * @internal
 */
export const removeIfNotRegular = (path: string): Effect.Effect<boolean, PlatformError> =>
  Effect.flatMap(lstatKind(path), (kind) => kind === "other" ? Effect.as(remove(path), true) : Effect.succeed(false))

/**
 * A file opened by this module, closed when its scope closes (a failure to close is ignored: whoever needs
 * its bytes on disk calls `sync` first).
 *
 * @internal
 */
export interface Handle {
  readonly path: string
  /** Writes all of `bytes`, at the end of the file when opened to append. */
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, PlatformError>
  readonly truncate: (length: number) => Effect.Effect<void, PlatformError>
  /** `fsync`: the bytes written so far are on disk. */
  readonly sync: Effect.Effect<void, PlatformError>
}

const refuse = (method: string, path: string, reason: SystemErrorReason, description: string): PlatformError =>
  new SystemError({ reason, module: "FileSystem", method, pathOrDescriptor: path, description })

/**
 * Opens `path` with `flags` in the scope, never through a link, and refuses anything but a regular file (a
 * file this open created with `O_CREAT | O_EXCL` is one by construction: no `fstat` for it).
 */
const open = (path: string, flags: number): Effect.Effect<Fsp.FileHandle, PlatformError, Scope.Scope> => {
  const created = (flags & constants.O_CREAT) !== 0 && (flags & constants.O_EXCL) !== 0
  return Effect.acquireRelease(
    Effect.flatMap(
      attempt("open", path, async () => {
        const file = await Fsp.open(path, flags | noFollow | noBlock, 0o666)
        if (created) return file
        const regular = await file.stat().then(
          (stats) => stats.isFile(),
          (error) => file.close().then(() => Promise.reject(error))
        )
        if (regular) return file
        await file.close()
        return undefined
      }),
      (file) =>
        file === undefined
          ? Effect.fail(refuse("open", path, "BadResource", "not a regular file"))
          : Effect.succeed(file)
    ),
    (file) => Effect.promise(() => file.close().catch(() => undefined))
  )
}

// What a handle does, once started, is finished before its scope may close the file: never a write to a
// closed (or reused) descriptor.
const handleOf = (path: string, file: Fsp.FileHandle): Handle => {
  /** Fails unless all `total` bytes were written: a disk that takes nothing more is not waited on forever. */
  const wrote = (total: number) => (offset: number) =>
    offset === total
      ? Effect.void
      : Effect.fail(refuse("write", path, "WriteZero", `${offset} of ${total} bytes written`))
  return {
    path,
    write: (bytes) =>
      Effect.flatMap(
        attemptOnce("write", path, async () => {
          let offset = 0
          while (offset < bytes.length) {
            const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset)
            if (bytesWritten === 0) break
            offset += bytesWritten
          }
          return offset
        }),
        wrote(bytes.length)
      ),
    truncate: (length) => attemptOnce("truncate", path, () => file.truncate(length)),
    sync: attemptOnce("sync", path, () => file.sync())
  }
}

/**
 * Opens `path` to append (every write lands at the end), creating it when missing; fails when `path` is a
 * link or not a regular file.
 *
 * @internal
 */
export const openAppend = (path: string): Effect.Effect<Handle, PlatformError, Scope.Scope> =>
  Effect.map(
    open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT),
    (file) => handleOf(path, file)
  )

/**
 * Creates `path` and opens it to write; fails with `AlreadyExists` when anything is there, a link included.
 *
 * @internal
 */
export const openExclusive = (path: string): Effect.Effect<Handle, PlatformError, Scope.Scope> =>
  Effect.map(
    open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL),
    (file) => handleOf(path, file)
  )

/**
 * Creates `path` afresh and opens it to write: whatever was there (a file left by an earlier run, a link) is
 * removed first, when the exclusive create finds it.
 *
 * @internal
 */
export const openFresh = (path: string): Effect.Effect<Handle, PlatformError, Scope.Scope> =>
  openExclusive(path).pipe(
    Effect.catchIf(
      (error) => error._tag === "SystemError" && error.reason === "AlreadyExists",
      () => Effect.zipRight(remove(path), openExclusive(path))
    )
  )

/**
 * The first `limit` bytes of the regular file at `path` (fewer when it is shorter), or `None` when nothing is
 * there; fails when `path` is a link or not a regular file. To bound a read at `max` bytes, ask for `max + 1`:
 * more than `max` means too large.
 *
 * @internal
 */
export const readUpTo = (path: string, limit: number): Effect.Effect<Option.Option<Uint8Array>, PlatformError> =>
  Effect.scoped(Effect.gen(function*() {
    const file = yield* open(path, constants.O_RDONLY).pipe(
      Effect.map(Option.some),
      Effect.catchIf(
        (error) => error._tag === "SystemError" && error.reason === "NotFound",
        () => Effect.succeed(Option.none())
      )
    )
    if (Option.isNone(file)) return Option.none()
    return Option.some(
      yield* attemptOnce("read", path, async () => {
        const chunks: Array<Buffer> = []
        let total = 0
        // To the end of the file or `limit`, whichever comes first.
        while (total < limit) {
          const buffer = Buffer.allocUnsafe(Math.min(limit - total, 1024 * 1024))
          const { bytesRead } = await file.value.read(buffer, 0, buffer.length, total)
          if (bytesRead === 0) break
          chunks.push(buffer.subarray(0, bytesRead))
          total += bytesRead
        }
        return Buffer.concat(chunks, total) as Uint8Array
      })
    )
  }))
