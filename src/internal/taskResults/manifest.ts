import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Names from "./names.js"
import * as SafeFile from "./safeFile.js"

/**
 * One file of the directory as the manifest knows it. `complete`: renamed to `name` with `bytes` bytes of
 * SHA-256 `sha256`. `partial`: being written to its temporary name, from the entity `etag` of `size` bytes.
 *
 * @internal
 */
export const Entry = Schema.Struct({
  name: Schema.String,
  source: Schema.String,
  state: Schema.Literal("complete", "partial"),
  etag: Schema.optional(Schema.String),
  size: Schema.optional(Schema.Number),
  bytes: Schema.optional(Schema.Number),
  sha256: Schema.optional(Schema.String)
})

/** @internal */
export type Entry = typeof Entry.Type

/** The snapshot (`Names.manifest`): every entry, written whole by a compaction. */
const Snapshot = Schema.parseJson(Schema.Struct({ version: Schema.Literal(1), files: Schema.Array(Entry) }))

/** One line of the journal: an entry set since the snapshot was written. */
const Line = Schema.parseJson(Entry)

/**
 * The journal's name in the directory, beside the snapshot: one line per entry set since the snapshot.
 *
 * @internal
 */
export const journalName = ".textreveal-manifest.journal"

/** The name the snapshot is written to before it is renamed over the manifest. */
const temporaryName = `${Names.manifest}.tmp`

/** A snapshot larger than this is not one of ours (about 100,000 entries). */
const maxSnapshotBytes = 16 * 1024 * 1024
/** A journal larger than this is not one of ours (two lines or so per file of the snapshot's maximum). */
const maxJournalBytes = 64 * 1024 * 1024
/** A line larger than this is not one of ours: entries are names of at most 200 bytes, an ETag, numbers. */
const maxLineBytes = 64 * 1024

const newline = 0x0a
const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

// Encoding an `Entry` cannot fail: its fields are strings, numbers and a literal, checked by the compiler.
const encodeSnapshot = Schema.encodeSync(Snapshot)
const encodeLine = Schema.encodeSync(Line)
const decodeSnapshot = Schema.decodeUnknownEither(Snapshot)
const decodeLine = Schema.decodeUnknownEither(Line)

const text = (bytes: Uint8Array): Either.Either<string, string> =>
  Either.try({ try: () => decoder.decode(bytes), catch: () => "not UTF-8" })

/**
 * The entries of a snapshot with the journal's lines replayed over it in order (a later line for a name
 * wins), or why they cannot be read. Only lines ended by a newline count: a last line without one is an
 * append cut short (the process died), and is ignored.
 */
const replay = (
  snapshot: Option.Option<Uint8Array>,
  journal: Option.Option<Uint8Array>
): Either.Either<Map<string, Entry>, string> => {
  const entries = new Map<string, Entry>()
  if (Option.isSome(snapshot)) {
    if (snapshot.value.length > maxSnapshotBytes) return Either.left(`the manifest is over ${maxSnapshotBytes} bytes`)
    const decoded = Either.flatMap(text(snapshot.value), decodeSnapshot)
    if (Either.isLeft(decoded)) return Either.left("the manifest is not one written by this library")
    for (const entry of decoded.right.files) entries.set(entry.name, entry)
  }
  if (Option.isSome(journal)) {
    const bytes = journal.value
    if (bytes.length > maxJournalBytes) return Either.left(`the journal is over ${maxJournalBytes} bytes`)
    let start = 0
    for (let end = bytes.indexOf(newline); end !== -1; end = bytes.indexOf(newline, start)) {
      if (end - start > maxLineBytes) return Either.left(`a line of the journal is over ${maxLineBytes} bytes`)
      const decoded = Either.flatMap(text(bytes.subarray(start, end)), decodeLine)
      if (Either.isLeft(decoded)) return Either.left("a line of the journal is not one written by this library")
      entries.set(decoded.right.name, decoded.right)
      start = end + 1
    }
  }
  return Either.right(entries)
}

/**
 * The manifest of a download directory: what earlier runs completed or left partial, so that a re-run
 * skips and resumes. It is two files: a snapshot (`.textreveal-manifest.json`) and a journal
 * (`.textreveal-manifest.journal`) where each `set` appends one line, so that a download writes a number of
 * bytes linear in its number of files. A compaction writes the snapshot whole and removes the journal.
 * Neither file, nor the snapshot's temporary name, is ever followed through a symbolic link.
 *
 * @internal
 */
export interface Manifest {
  readonly get: (name: string) => Entry | undefined
  /**
   * Records `entry`: one line appended to the journal, in the order of the sets, each line whole. Lines set
   * while a write is under way go out together in the next one.
   */
  readonly set: (entry: Entry) => Effect.Effect<void, PlatformError.PlatformError>
  /**
   * Writes the snapshot whole and removes the journal: once, at the end of a download (success or failure).
   * Closes the journal, which a later `set` opens again.
   */
  readonly compact: Effect.Effect<void, PlatformError.PlatformError>
}

/** Lines waiting to be appended together, and the outcome of their write. */
interface Batch {
  readonly lines: Array<Uint8Array>
  readonly written: Deferred.Deferred<void, PlatformError.PlatformError>
}

interface Files {
  readonly snapshot: string
  readonly journal: string
  readonly temporary: string
}

/**
 * Writes `entries` to the temporary name (created: nothing there is followed or overwritten), on disk before
 * it is renamed over the snapshot (a rename replaces a link at the destination, it does not follow it); then
 * removes the journal, whose lines the snapshot holds.
 */
const writeSnapshot = Effect.fnUntraced(function*(
  fs: FileSystem.FileSystem,
  files: Files,
  entries: ReadonlyMap<string, Entry>
) {
  const bytes = encoder.encode(encodeSnapshot({ version: 1, files: [...entries.values()] }))
  // Left by a compaction that did not end, or planted there.
  yield* SafeFile.remove(files.temporary)
  yield* Effect.scoped(Effect.flatMap(
    SafeFile.openExclusive(files.temporary),
    (file) => Effect.zipRight(file.write(bytes), file.sync)
  ))
  yield* fs.rename(files.temporary, files.snapshot)
  yield* SafeFile.remove(files.journal)
})

/**
 * Reads the manifest of `directory`: its snapshot, then its journal's lines in order. Anything unreadable
 * only costs a fresh download of every file (each is verified anyway) and logs a warning. A link or special
 * file at one of the manifest's names is removed (the link, not its target) and counts as absent. A journal
 * left by a run that did not end is compacted at once, so that this run's lines never follow a line cut
 * short. Call `compact` at the end, or use `make`.
 *
 * @internal
 */
export const load = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  directory: string
): Effect.Effect<Manifest, PlatformError.PlatformError> =>
  Effect.gen(function*() {
    const files: Files = {
      snapshot: path.join(directory, Names.manifest),
      journal: path.join(directory, journalName),
      temporary: path.join(directory, temporaryName)
    }
    for (const file of [files.snapshot, files.journal, files.temporary]) {
      if (yield* SafeFile.removeIfNotRegular(file)) {
        yield* Effect.logWarning("TaskResults: removed a link or special file at a manifest's name").pipe(
          Effect.annotateLogs({ file })
        )
      }
    }
    const snapshot = yield* SafeFile.readUpTo(files.snapshot, maxSnapshotBytes + 1)
    const journal = yield* SafeFile.readUpTo(files.journal, maxJournalBytes + 1)
    const replayed = replay(snapshot, journal)
    if (Either.isLeft(replayed)) {
      yield* Effect.logWarning("TaskResults: ignoring an unreadable manifest").pipe(
        Effect.annotateLogs({ file: files.snapshot, reason: replayed.left })
      )
    }
    const entries = Either.getOrElse(replayed, () => new Map<string, Entry>())

    // The journal stays open from the first `set` to `compact`.
    let journalFile: { readonly handle: SafeFile.Handle; readonly scope: Scope.CloseableScope } | undefined
    const appendTo = Effect.gen(function*() {
      if (journalFile !== undefined) return journalFile.handle
      const scope = yield* Scope.make()
      const handle = yield* SafeFile.openAppend(files.journal).pipe(
        Scope.extend(scope),
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      journalFile = { handle, scope }
      return handle
    })
    const closeJournal = Effect.suspend(() => {
      const open = journalFile
      journalFile = undefined
      return open === undefined ? Effect.void : Scope.close(open.scope, Exit.void)
    })

    // Lines are appended in the order the entries change in memory, by one fiber at a time: the `set` that
    // finds no writer becomes it, and writes every line waiting, in one write, until none is left; the others
    // only wait for the write of their line. Writes hold the lock (as compactions do), whole once started. No
    // fsync per line: a line lost in a crash only costs downloading that file again (each file is verified),
    // the same as a crash one line earlier.
    const lock = yield* Effect.makeSemaphore(1)
    let waiting: Batch | undefined
    let writing = false
    const drain: Effect.Effect<void> = Effect.suspend(() => {
      const batch = waiting
      waiting = undefined
      if (batch === undefined) {
        writing = false
        return Effect.void
      }
      return Effect.flatMap(
        Effect.exit(Effect.flatMap(appendTo, (file) => file.write(Buffer.concat(batch.lines)))),
        (exit) => Effect.zipRight(Deferred.done(batch.written, exit), drain)
      )
    })
    const set = (entry: Entry): Effect.Effect<void, PlatformError.PlatformError> =>
      Effect.suspend(() => {
        entries.set(entry.name, entry)
        const line = encoder.encode(`${encodeLine(entry)}\n`)
        // Longer than a reader accepts (an ETag of tens of KiB): kept for this run and its snapshot only.
        if (line.length > maxLineBytes) return Effect.void
        const batch = waiting ??= { lines: [], written: Deferred.unsafeMake(FiberId.none) }
        batch.lines.push(line)
        if (writing) return Deferred.await(batch.written)
        writing = true
        // Uninterruptible from here: a writer interrupted before it drained would leave the lines waiting.
        return Effect.zipRight(Effect.uninterruptible(lock.withPermits(1)(drain)), Deferred.await(batch.written))
      })
    const compact = lock.withPermits(1)(
      Effect.uninterruptible(Effect.zipRight(closeJournal, writeSnapshot(fs, files, entries)))
    )

    if (Option.isSome(journal)) yield* compact
    return { get: (name: string) => entries.get(name), set, compact }
  })

/**
 * `load` in a scope that compacts the manifest when it closes. A compaction that fails is logged, and its
 * journal kept for the next run.
 *
 * @internal
 */
export const make = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  directory: string
): Effect.Effect<Manifest, PlatformError.PlatformError, Scope.Scope> =>
  Effect.acquireRelease(load(fs, path, directory), (manifest) =>
    manifest.compact.pipe(
      // A journal that stays only costs its replay in the next run: nothing is lost.
      Effect.catchAll((error) =>
        Effect.logWarning("TaskResults: the manifest could not be compacted").pipe(
          Effect.annotateLogs({ directory, error: error.message })
        )
      )
    ))

// ---------------------------------------------------------------------------------------------------------
// The export record
// ---------------------------------------------------------------------------------------------------------

/**
 * The export a directory's files come from: the request (its resource and the SHA-256 of its body's canonical
 * JSON) and the task it started. Written by `TaskResults.export` right after the export started, before
 * waiting, so that a run killed at any point after that continues the same task.
 *
 * @internal
 */
export const ExportRecord = Schema.Struct({
  version: Schema.Literal(1),
  resource: Schema.String,
  bodySha256: Schema.String,
  taskId: Schema.String
})

/** @internal */
export type ExportRecord = typeof ExportRecord.Type

/**
 * The export record's name in the directory, beside the manifest. It is a file of its own because the
 * manifest of a download that fails before any file is removed with the download's leftovers, while the
 * record must outlive that failure.
 *
 * @internal
 */
export const exportName = ".textreveal-export.json"

/** An export record is a few hundred bytes. */
const maxExportBytes = 64 * 1024

const ExportRecordJson = Schema.parseJson(ExportRecord)
const encodeExportRecord = Schema.encodeSync(ExportRecordJson)
const decodeExportRecord = Schema.decodeUnknownEither(ExportRecordJson)

/**
 * The export record of `directory`, if there is a readable one. One that cannot be read (not ours, over its
 * bound, a link) logs a warning and counts as absent: the cost is a new export.
 *
 * @internal
 */
export const readExport = (
  path: Path.Path,
  directory: string
): Effect.Effect<Option.Option<ExportRecord>, PlatformError.PlatformError> =>
  Effect.gen(function*() {
    const file = path.join(directory, exportName)
    if (yield* SafeFile.removeIfNotRegular(file)) {
      yield* Effect.logWarning("TaskResults: removed a link or special file at the export record's name").pipe(
        Effect.annotateLogs({ file })
      )
    }
    const bytes = yield* SafeFile.readUpTo(file, maxExportBytes + 1)
    if (Option.isNone(bytes)) return Option.none()
    const decoded = bytes.value.length > maxExportBytes
      ? Either.left("over its bound")
      : Either.flatMap(text(bytes.value), decodeExportRecord)
    if (Either.isLeft(decoded)) {
      yield* Effect.logWarning("TaskResults: ignoring an unreadable export record").pipe(Effect.annotateLogs({ file }))
      return Option.none()
    }
    return Option.some(decoded.right)
  })

/**
 * Writes the export record of `directory`: to a temporary name created exclusively, synced, then renamed over
 * the record, so that a crash leaves the old record or the new one, never a part.
 *
 * @internal
 */
export const writeExport = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  directory: string,
  record: ExportRecord
): Effect.Effect<void, PlatformError.PlatformError> =>
  Effect.gen(function*() {
    const file = path.join(directory, exportName)
    const temporary = `${file}.tmp`
    yield* SafeFile.remove(temporary)
    yield* Effect.scoped(Effect.flatMap(
      SafeFile.openExclusive(temporary),
      (handle) => Effect.zipRight(handle.write(encoder.encode(encodeExportRecord(record))), handle.sync)
    ))
    yield* fs.rename(temporary, file)
  })
