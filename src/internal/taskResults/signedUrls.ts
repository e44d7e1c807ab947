import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type * as DownloadUrl from "../../DownloadUrl.js"
import { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Metrics from "../metrics.js"
import { sanitize, type Slot } from "./names.js"

/**
 * The signed URLs of one task, shared by its files: `current` gives a file's URL from the newest list (and
 * that list's generation), fetching fresh URLs first when it has expired by the clock; `refresh` fetches fresh
 * URLs after the file host refused one of generation `generation`. However many files see the same expiry,
 * the endpoint is asked once: a refusal of an older generation just moves on to the newest list.
 *
 * @internal
 */
export interface SignedUrls {
  readonly current: (
    slot: Slot
  ) => Effect.Effect<
    { readonly url: DownloadUrl.DownloadUrl; readonly generation: number },
    TextRevealClient.ApiError | DownloadError
  >
  readonly refresh: (slot: Slot, generation: number) => Effect.Effect<number, TextRevealClient.ApiError>
}

/** @internal */
export const make = (
  client: TextRevealClient.Service,
  taskId: string,
  initial: ReadonlyArray<DownloadUrl.DownloadUrl>
): Effect.Effect<SignedUrls> =>
  Effect.map(Effect.makeSemaphore(1), (lock) => {
    /** The URLs of the newest list by sanitised name, in list order: built once per list, not per lookup. */
    const index = (list: ReadonlyArray<DownloadUrl.DownloadUrl>) => {
      const byName = new Map<string, Array<DownloadUrl.DownloadUrl>>()
      for (const url of list) {
        const name = sanitize(url.fileName)
        const same = byName.get(name)
        if (same === undefined) byName.set(name, [url])
        else same.push(url)
      }
      return byName
    }
    let generation = 0
    let urls = index(initial)

    const lookup = (slot: Slot) => {
      const url = urls.get(slot.source)?.[slot.occurrence]
      if (url !== undefined) return Effect.succeed(url)
      return Effect.fail(
        new DownloadError({
          fileName: slot.name,
          reason: "Missing",
          message: `${slot.name} is no longer among the task's files: fresh download URLs do not list it`
        })
      )
    }

    const refresh = (_slot: Slot, seen: number) =>
      lock.withPermits(1)(Effect.suspend(() => {
        if (generation !== seen) return Effect.succeed(generation)
        return Effect.map(
          Effect.zipRight(Metrics.recordRetry("file", "url_refresh"), client.getDownloadUrls(taskId)),
          (fresh) => {
            urls = index(fresh)
            return ++generation
          }
        )
      }))

    const current = Effect.fnUntraced(function*(slot: Slot) {
      const seen = generation
      const url = yield* lookup(slot)
      if (!url.isExpiredAt(yield* DateTime.now)) return { url, generation: seen }
      const fresh = yield* refresh(slot, seen)
      const again = yield* lookup(slot)
      if (again.isExpiredAt(yield* DateTime.now)) {
        return yield* new DownloadError({
          fileName: slot.name,
          reason: "Expired",
          message: `${slot.name}: fresh download URLs were already expired when received`
        })
      }
      return { url: again, generation: fresh }
    })

    return { current, refresh }
  })
