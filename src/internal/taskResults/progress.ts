import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { Progress } from "../../TaskResults.js"

/** The shortest time between two reports of one file. */
const intervalMillis = 100

/**
 * The progress of one file: `size` once known, `bytes` as they arrive (reported at most every 100 ms),
 * `finish` reported always.
 *
 * @internal
 */
export interface FileProgress {
  readonly size: (size: number | undefined) => void
  readonly restart: () => void
  /** Counts bytes without reporting them (bytes found on disk). */
  readonly add: (bytes: number) => void
  readonly advance: (bytes: number) => Effect.Effect<void>
  readonly finish: Effect.Effect<void>
}

const noop: FileProgress = {
  size: () => {},
  restart: () => {},
  add: () => {},
  advance: () => Effect.void,
  finish: Effect.void
}

/**
 * Progress of a download of `count` files, reported to `onProgress` (nothing is measured without one).
 *
 * @internal
 */
export const make = (
  names: ReadonlyArray<string>,
  onProgress: ((progress: Progress) => Effect.Effect<void>) | undefined
): (index: number) => FileProgress => {
  if (onProgress === undefined) return () => noop
  const bytes = names.map(() => 0)
  const sizes: Array<number | undefined> = names.map(() => undefined)
  let totalBytes = 0
  let unknownSizes = names.length
  let totalSize = 0

  return (index) => {
    const fileName = names[index]!
    let last = Number.NEGATIVE_INFINITY
    /** The file's bytes in the last report: the completion is reported once, not again by `finish`. */
    let reported = -1
    const report = Effect.suspend(() => {
      const fileSize = sizes[index]
      reported = bytes[index]!
      return onProgress({
        fileName,
        fileBytes: bytes[index]!,
        ...(fileSize === undefined ? {} : { fileSize }),
        totalBytes,
        ...(unknownSizes === 0 ? { totalSize } : {})
      })
    })
    return {
      size: (size) => {
        const before = sizes[index]
        if (before === size) return
        if (before === undefined) unknownSizes--
        else totalSize -= before
        if (size === undefined) unknownSizes++
        else totalSize += size
        sizes[index] = size
      },
      restart: () => {
        totalBytes -= bytes[index]!
        bytes[index] = 0
      },
      add: (n) => {
        bytes[index]! += n
        totalBytes += n
      },
      advance: (n) => {
        bytes[index]! += n
        totalBytes += n
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (now - last < intervalMillis) return Effect.void
          last = now
          return report
        })
      },
      finish: Effect.suspend(() => reported === bytes[index] && reported === sizes[index] ? Effect.void : report)
    }
  }
}
