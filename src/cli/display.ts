/**
 * Progress on stderr, in one of three modes: bars drawn in place on a terminal (at most 10 frames a second,
 * cleared at the end), one log line per event elsewhere (CI, cron, a pipe: no escape codes), or nothing
 * (`--quiet`).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type * as Scope from "effect/Scope"
import type * as Task from "../Task.js"
import type * as TaskResults from "../TaskResults.js"
import * as Bars from "./progressBars.js"
import type { Service as Stderr } from "./stderr.js"

/** @internal */
export type Mode = "bars" | "lines" | "silent"

/** @internal */
export const modeOf = (stderr: Stderr, quiet: boolean): Mode => quiet ? "silent" : stderr.interactive ? "bars" : "lines"

/** The time between two frames. */
const frameInterval = Duration.millis(100)

/** The rate is measured over this window. */
const rateWindowMillis = 3000

/**
 * Draws `frame()` every 100 ms while the scope is open, when `changed()` says so, and clears it when the
 * scope closes (also on failure or interruption).
 */
const animate = (
  stderr: Stderr,
  frame: (now: number) => ReadonlyArray<string>,
  changed: () => boolean
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.addFinalizer(() => stderr.clear)
    const draw = Effect.flatMap(Clock.currentTimeMillis, (now) => changed() ? stderr.draw(frame(now)) : Effect.void)
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(draw, Effect.sleep(frameInterval))))
  })

/** A progress line: an `Info` entry of the command line's logger, printed whatever its minimum level. */
const logLine = (_stderr: Stderr, message: string) =>
  Effect.logInfo(message).pipe(Logger.withMinimumLogLevel(LogLevel.Info))

/** Bytes over time, to tell a rate. */
class Meter {
  private samples: Array<readonly [number, number]> = []
  record(now: number, bytes: number) {
    const last = this.samples[this.samples.length - 1]
    if (last !== undefined && bytes < last[1]) this.samples = [] // started over
    this.samples.push([now, bytes])
    while (this.samples.length > 2 && now - this.samples[0]![0] > rateWindowMillis) this.samples.shift()
  }
  rate(): number | undefined {
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    if (first === undefined || last === undefined || last[0] - first[0] < 200) return undefined
    return (last[1] - first[1]) / ((last[0] - first[0]) / 1000)
  }
}

interface FileState {
  readonly name: string
  bytes: number
  size: number | undefined
  readonly meter: Meter
  started: boolean
  finished: boolean
}

/**
 * The display of one download.
 *
 * @internal
 */
export interface Download {
  /** Give to `TaskResults.download`. */
  readonly onProgress: (progress: TaskResults.Progress) => Effect.Effect<void>
  /** Once the files are on disk: the lines of the files not reported yet (those skipped, those of unknown size). */
  readonly done: (files: ReadonlyArray<TaskResults.DownloadedFile>) => Effect.Effect<void>
}

const complete = (state: FileState) => state.size !== undefined && state.bytes >= state.size

/**
 * The display of a download of the task's files, for the life of the scope.
 *
 * @internal
 */
export const download = (stderr: Stderr, mode: Mode): Effect.Effect<Download, never, Scope.Scope> =>
  Effect.gen(function*() {
    const files = new Map<string, FileState>()
    const total = { bytes: 0, size: undefined as number | undefined, meter: new Meter() }
    let dirty = false

    if (mode === "bars") {
      yield* animate(stderr, () => {
        dirty = false
        const width = stderr.columns() - 1
        const active = [...files.values()].filter((file) => !complete(file))
        const finished = files.size - active.length
        return [
          ...active.map((file) =>
            Bars.bar(
              { label: file.name, bytes: file.bytes, size: file.size, rate: file.meter.rate() },
              width,
              stderr.color
            )
          ),
          Bars.bar(
            {
              // The number of files is known only as they start: the count says how many are done.
              label: `total (${finished} done)`,
              bytes: total.bytes,
              size: total.size,
              rate: total.meter.rate(),
              total: true
            },
            width,
            stderr.color
          )
        ]
      }, () => dirty)
    }

    const onProgress = (progress: TaskResults.Progress): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        let file = files.get(progress.fileName)
        if (file === undefined) {
          file = {
            name: progress.fileName,
            bytes: 0,
            size: undefined,
            meter: new Meter(),
            started: false,
            finished: false
          }
          files.set(progress.fileName, file)
        }
        file.bytes = progress.fileBytes
        file.size = progress.fileSize
        file.meter.record(now, progress.fileBytes)
        total.bytes = progress.totalBytes
        total.size = progress.totalSize
        total.meter.record(now, progress.totalBytes)
        dirty = true
        if (mode !== "lines") return Effect.void
        if (!file.started) {
          // A file complete at its first report was on disk already, or tiny: `done` tells which.
          if (complete(file)) return Effect.void
          file.started = true
          return logLine(
            stderr,
            `${file.name}: started${file.size === undefined ? "" : `, ${Bars.formatBytes(file.size)}`}`
          )
        }
        if (!file.finished && complete(file)) {
          file.finished = true
          return logLine(stderr, `${file.name}: finished, ${Bars.formatBytes(file.bytes)}`)
        }
        return Effect.void
      })

    const done = (results: ReadonlyArray<TaskResults.DownloadedFile>) =>
      mode !== "lines" ? Effect.void : Effect.forEach(results, (result) => {
        const file = files.get(result.fileName)
        if (file?.finished === true) return Effect.void
        if (result.skipped) return logLine(stderr, `${result.fileName}: already complete, skipped`)
        // A file complete at its first report (a small one) has its started line now, beside its end.
        const size = Bars.formatBytes(result.bytes)
        return Effect.zipRight(
          file?.started === true ? Effect.void : logLine(stderr, `${result.fileName}: started, ${size}`),
          logLine(stderr, `${result.fileName}: finished, ${size}`)
        )
      }, { discard: true })

    return { onProgress, done }
  })

/**
 * The display of a wait for a task.
 *
 * @internal
 */
export interface Wait {
  /** Called with each status polled. */
  readonly onStatus: (status: Task.TaskStatus) => Effect.Effect<void>
}

/**
 * A spinner with the task's status on a terminal, a line per status change elsewhere, for the life of the
 * scope.
 *
 * @internal
 */
export const wait = (stderr: Stderr, mode: Mode, taskId: string): Effect.Effect<Wait, never, Scope.Scope> =>
  Effect.gen(function*() {
    let status: Task.TaskStatus | undefined
    let tick = 0
    const started = yield* Clock.currentTimeMillis
    if (mode === "bars") {
      yield* animate(
        stderr,
        (now) => [Bars.spinner(tick++, taskId, status, Math.floor((now - started) / 1000), stderr.color)],
        () => true
      )
    }
    return {
      onStatus: (next) => {
        if (next === status) return Effect.void
        status = next
        return mode === "lines" ? logLine(stderr, `task ${taskId}: ${next}`) : Effect.void
      }
    }
  })
