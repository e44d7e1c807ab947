import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import type { DownloadedFile, DownloadOptions } from "../../TaskResults.js"
import type { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as DiskFile from "./diskFile.js"
import type * as Transfer from "./fileTransfer.js"
import * as Manifest from "./manifest.js"
import * as Names from "./names.js"
import * as Progress from "./progress.js"
import * as SafeFile from "./safeFile.js"
import * as SignedUrls from "./signedUrls.js"
import type { Start } from "./transferRules.js"

/**
 * What a download needs besides its options.
 *
 * @internal
 */
export interface Deps {
  readonly client: TextRevealClient.Service
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  readonly transfer: Omit<Transfer.Env, "urls">
}

/**
 * Checks that the directory can be written (creating it when missing) before anything is fetched: the
 * user's own mistake comes first, as a `PlatformError` naming the path. Gives whether it was created.
 */
const prepare = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, path: Path.Path, directory: string) {
  const created = !(yield* fs.exists(directory))
  yield* fs.makeDirectory(directory, { recursive: true })
  const probe = path.join(directory, ".textreveal-write-check")
  yield* SafeFile.remove(probe)
  yield* Effect.scoped(SafeFile.openExclusive(probe))
  yield* SafeFile.remove(probe)
  return created
})

/**
 * After a failed download, removes what holds nothing: a manifest beside no file, and the directory when
 * this download created it and it is left empty.
 */
const tidy = (fs: FileSystem.FileSystem, path: Path.Path, directory: string, created: boolean) =>
  Effect.gen(function*() {
    const bookkeeping = new Set([Names.manifest, Manifest.journalName])
    const left = yield* fs.readDirectory(directory)
    if (left.some((name) => !bookkeeping.has(name))) return
    for (const name of left) yield* SafeFile.remove(path.join(directory, name))
    if (created) yield* SafeFile.remove(directory)
  })

/**
 * Downloads every file of a task into a directory: see `TaskResults.Service.download`.
 *
 * @internal
 */
export const download = (
  deps: Deps,
  taskId: string,
  options: DownloadOptions
): Effect.Effect<
  ReadonlyArray<DownloadedFile>,
  TextRevealClient.ApiError | DownloadError | PlatformError.PlatformError
> =>
  Effect.gen(function*() {
    const { fs, path } = deps
    const directory = path.resolve(options.directory)
    const created = yield* prepare(fs, path, directory)
    return yield* fetchAll(deps, taskId, options, directory).pipe(
      Effect.tapErrorCause(() => Effect.ignore(tidy(fs, path, directory, created)))
    )
  })

const fetchAll = (deps: Deps, taskId: string, options: DownloadOptions, directory: string) =>
  Effect.gen(function*() {
    const { client, fs, path } = deps
    const manifest = yield* Manifest.load(fs, path, directory)
    const urls = yield* client.getDownloadUrls(taskId)
    const slots = Names.assign(urls.map((url) => url.fileName))
    const env: Transfer.Env = { ...deps.transfer, urls: yield* SignedUrls.make(client, taskId, urls) }
    const progressOf = Progress.make(slots.map((slot) => slot.name), options.onProgress)

    const one = Effect.fnUntraced(function*(slot: Names.Slot) {
      const final = path.join(directory, slot.name)
      const temp = path.join(directory, Names.temporary(slot.name))
      const progress = progressOf(slot.index)
      const entry = options.overwrite === true ? undefined : manifest.get(slot.name)
      const known = entry !== undefined && entry.source === slot.source ? entry : undefined

      if (known?.state === "complete" && known.bytes !== undefined && known.sha256 !== undefined) {
        // Only a regular file counts: a link planted at the name is replaced by the download.
        if ((yield* SafeFile.lstatKind(final)) === "file" && Number((yield* fs.stat(final)).size) === known.bytes) {
          progress.size(known.bytes)
          progress.add(known.bytes)
          yield* progress.finish
          const skipped: DownloadedFile = {
            fileName: slot.name,
            path: final,
            bytes: known.bytes,
            sha256: known.sha256,
            skipped: true
          }
          return skipped
        }
      }

      let resume: Start | undefined
      if (known?.state === "partial" && known.etag !== undefined && (yield* SafeFile.lstatKind(temp)) === "file") {
        const size = Number((yield* fs.stat(temp)).size)
        if (size > 0 && (known.size === undefined || size <= known.size)) {
          resume = { offset: size, etag: known.etag, size: known.size }
        }
      }

      const written = yield* DiskFile.write({ fs, env, slot, target: { temp, final }, resume, manifest, progress })
      const file: DownloadedFile = {
        fileName: slot.name,
        path: final,
        bytes: written.bytes,
        sha256: written.sha256,
        skipped: false
      }
      return file
    })

    return yield* Effect.forEach(slots, one, { concurrency: Math.max(1, Math.floor(options.concurrency ?? 4)) }).pipe(
      Effect.ensuring(Effect.ignore(manifest.compact))
    )
  })
