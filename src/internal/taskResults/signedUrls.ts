import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type * as DownloadUrl from "../../DownloadUrl.js"
import { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Metrics from "../metrics.js"
import { sanitize, type Slot } from "./names.js"

/**
 * What one file knows of its URL: the generation of the list it came from, and whether it was fetched
 * afresh since the file last made progress (a second expiry then is final).
 *
 * @internal
 */
export interface UrlState {
  generation: number
  refreshedWithoutProgress: boolean
}

/** @internal */
export const initialState = (): UrlState => ({ generation: 0, refreshedWithoutProgress: false })

/**
 * The signed URLs of one task, shared by its files: `current` gives a file's URL, fetching fresh URLs first
 * when it has expired by the clock; `refresh` fetches fresh URLs after the file host refused one. However
 * many files see the same expiry, the endpoint is asked once.
 *
 * @internal
 */
export interface SignedUrls {
  readonly current: (
    slot: Slot,
    state: UrlState
  ) => Effect.Effect<DownloadUrl.DownloadUrl, TextRevealClient.ApiError | DownloadError>
  readonly refresh: (
    slot: Slot,
    state: UrlState,
    status?: number
  ) => Effect.Effect<void, TextRevealClient.ApiError | DownloadError>
}

/** @internal */
export const make = (
  client: TextRevealClient.Service,
  taskId: string,
  initial: ReadonlyArray<DownloadUrl.DownloadUrl>
): Effect.Effect<SignedUrls> =>
  Effect.map(Effect.makeSemaphore(1), (lock) => {
    let generation = 0
    let urls = initial

    const lookup = (slot: Slot) => {
      let seen = 0
      for (const url of urls) {
        if (sanitize(url.fileName) !== slot.source) continue
        if (seen === slot.occurrence) return Effect.succeed(url)
        seen++
      }
      return Effect.fail(
        new DownloadError({
          fileName: slot.name,
          reason: "Missing",
          message: `${slot.name} is no longer among the task's files: fresh download URLs do not list it`
        })
      )
    }

    const refresh = (slot: Slot, state: UrlState, status?: number) =>
      Effect.suspend((): Effect.Effect<void, TextRevealClient.ApiError | DownloadError> => {
        if (state.refreshedWithoutProgress) {
          return Effect.fail(
            new DownloadError({
              fileName: slot.name,
              reason: "Expired",
              message: `${slot.name}: the file host refused a freshly signed URL as expired`,
              ...(status === undefined ? {} : { status })
            })
          )
        }
        return lock.withPermits(1)(Effect.suspend(() => {
          if (generation !== state.generation) return Effect.void
          return Effect.map(
            Effect.zipRight(Metrics.recordRetry("file", "url_refresh"), client.getDownloadUrls(taskId)),
            (fresh) => {
              urls = fresh
              generation++
            }
          )
        })).pipe(Effect.tap(() => {
          state.generation = generation
          state.refreshedWithoutProgress = true
        }))
      })

    const current = Effect.fnUntraced(function*(slot: Slot, state: UrlState) {
      if (state.generation !== generation) state.generation = generation
      const url = yield* lookup(slot)
      if (!url.isExpiredAt(yield* DateTime.now)) return url
      yield* refresh(slot, state)
      const fresh = yield* lookup(slot)
      if (fresh.isExpiredAt(yield* DateTime.now)) {
        return yield* new DownloadError({
          fileName: slot.name,
          reason: "Expired",
          message: `${slot.name}: fresh download URLs were already expired when received`
        })
      }
      return fresh
    })

    return { current, refresh }
  })
