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
import * as SignedUrls from "./signedUrls.js"

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
 * user's own mistake comes first, as a `PlatformError` naming the path.
 */
const prepare = Effect.fnUntraced(function*(fs: FileSystem.FileSystem, path: Path.Path, directory: string) {
  yield* fs.makeDirectory(directory, { recursive: true })
  const probe = path.join(directory, ".textreveal-write-check")
  yield* fs.writeFileString(probe, "")
  yield* fs.remove(probe)
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
    const { client, fs, path } = deps
    const directory = path.resolve(options.directory)
    yield* prepare(fs, path, directory)
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
        if ((yield* fs.exists(final)) && Number((yield* fs.stat(final)).size) === known.bytes) {
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

      let resume: Transfer.From | undefined
      if (known?.state === "partial" && known.etag !== undefined && (yield* fs.exists(temp))) {
        const size = Number((yield* fs.stat(temp)).size)
        if (size > 0 && (known.size === undefined || size <= known.size)) {
          resume = { offset: size, etag: known.etag, size: known.size }
        }
      }

      const written = yield* DiskFile.write({
        fs,
        env,
        slot,
        url: SignedUrls.initialState(),
        target: { temp, final },
        resume,
        manifest,
        progress
      })
      const file: DownloadedFile = {
        fileName: slot.name,
        path: final,
        bytes: written.bytes,
        sha256: written.sha256,
        skipped: false
      }
      return file
    })

    return yield* Effect.forEach(slots, one, { concurrency: Math.max(1, Math.floor(options.concurrency ?? 4)) })
  })
