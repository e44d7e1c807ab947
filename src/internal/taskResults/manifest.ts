import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Names from "./names.js"

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

const File = Schema.parseJson(Schema.Struct({ version: Schema.Literal(1), files: Schema.Array(Entry) }))

/** A manifest larger than this is not one of ours. */
const maxBytes = 16 * 1024 * 1024

/**
 * The manifest of a download directory: what earlier runs completed or left partial, so that a re-run
 * skips and resumes. Updates are written whole to a temporary name and renamed, one at a time.
 *
 * @internal
 */
export interface Manifest {
  readonly get: (name: string) => Entry | undefined
  readonly set: (entry: Entry) => Effect.Effect<void, PlatformError.PlatformError>
}

/** @internal */
export const load = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  directory: string
): Effect.Effect<Manifest, PlatformError.PlatformError> =>
  Effect.gen(function*() {
    const file = path.join(directory, Names.manifest)
    const temp = path.join(directory, `${Names.manifest}.tmp`)
    const entries = new Map<string, Entry>()
    if (yield* fs.exists(file)) {
      const info = yield* fs.stat(file)
      const decoded: Either.Either<typeof File.Type, unknown> = info.size <= maxBytes
        ? Schema.decodeUnknownEither(File)(yield* fs.readFileString(file))
        : Either.left("too large")
      // A manifest that cannot be read only costs a fresh download of every file: each is verified anyway.
      if (Either.isRight(decoded)) { for (const entry of decoded.right.files) entries.set(entry.name, entry) }
      else yield* Effect.logWarning("TaskResults: ignoring an unreadable manifest").pipe(Effect.annotateLogs({ file }))
    }
    const lock = yield* Effect.makeSemaphore(1)
    const set = (entry: Entry) =>
      lock.withPermits(1)(Effect.suspend(() => {
        entries.set(entry.name, entry)
        const text = JSON.stringify({ version: 1, files: [...entries.values()] }, null, 2)
        return Effect.zipRight(fs.writeFileString(temp, text), fs.rename(temp, file))
      })).pipe(Effect.uninterruptible)
    return { get: (name: string) => entries.get(name), set }
  })
