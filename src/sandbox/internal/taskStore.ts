/**
 * The tasks of the sandbox and their files: created from checked options, looked up by id (in any case)
 * or by the path of a signed URL, their status read from `Clock`.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Random from "effect/Random"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as Task from "../../Task.js"
import type { TaskId } from "../../TaskId.js"
import * as Csv from "./csv.js"
import type * as DiskCache from "./diskCache.js"
import * as Files from "./files.js"
import { uuid } from "./ids.js"
import type * as Options from "./options.js"

/**
 * One file of a task, at its current revision.
 *
 * @internal
 */
export interface FileEntry {
  readonly name: string
  /** The path its signed URLs point to: `/files/exports/task=<id>/<name, percent-encoded>`. */
  readonly path: string
  readonly source: Files.Source
  readonly revision: number
  readonly body: Files.Body
}

/** @internal */
export interface TaskRecord {
  /** Lower case, as generated. */
  readonly id: TaskId
  readonly seq: number
  readonly createdAt: number
  readonly startingFor: number
  readonly runningFor: number
  readonly outcome: "completed" | "failed"
  readonly files: ReadonlyArray<FileEntry>
  readonly gzip: boolean
  readonly ignoreRange: boolean
  readonly accessible: boolean
  readonly description: string
}

/**
 * The status of a task at `now` (`Clock` milliseconds).
 *
 * @internal
 */
export const statusAt = (task: TaskRecord, now: number): Task.TaskStatus => {
  const elapsed = now - task.createdAt
  if (elapsed < task.startingFor) return "starting"
  if (elapsed < task.startingFor + task.runningFor) return "running"
  return task.outcome
}

/**
 * When a task completed or failed.
 *
 * @internal
 */
export const finishedAt = (task: TaskRecord): number => task.createdAt + task.startingFor + task.runningFor

interface State {
  /** By lower-case id, in creation order. */
  readonly tasks: ReadonlyMap<string, TaskRecord>
  /** File path -> [task id, index of the file]. */
  readonly paths: ReadonlyMap<string, readonly [string, number]>
}

/** @internal */
export interface Located {
  readonly task: TaskRecord
  readonly file: FileEntry
}

/** @internal */
export interface Service {
  readonly create: (config: Options.TaskConfig) => Effect.Effect<TaskRecord>
  /** A task by id, compared case-insensitively as the client normalises ids. */
  readonly get: (id: string) => Effect.Effect<Option.Option<TaskRecord>>
  readonly all: Effect.Effect<ReadonlyArray<TaskRecord>>
  /** The file a signed URL's path points to, with its task. */
  readonly file: (path: string) => Effect.Effect<Option.Option<Located>>
  /** Replaces the file at `path` with a new revision: new ETag, new bytes when generated. */
  readonly changeFile: (path: string) => Effect.Effect<Option.Option<Located>>
}

/** @internal */
export class TaskStore extends Context.Tag("effect-textreveal/sandbox/internal/TaskStore")<TaskStore, Service>() {}

const fileName = (id: string, index: number) => index === 0 ? `${id}.csv` : `${id}-${index + 1}.csv`

/**
 * The store. Task ids and file seeds come from `random`, so that a seeded sandbox repeats itself; big
 * generated files are cached on disk in `cache`.
 *
 * @internal
 */
export const make = (random: Random.Random, cache: DiskCache.Service) =>
  Effect.gen(function*() {
    const state = yield* SynchronizedRef.make<State>({ tasks: new Map(), paths: new Map() })
    // Layouts are small and shared by every file of the same shape.
    const layouts = new Map<string, Csv.Layout>()
    const layoutOf = (options: Csv.LayoutOptions) => {
      const key = JSON.stringify(options)
      const existing = layouts.get(key)
      if (existing !== undefined) return existing
      const created = Csv.layout(options)
      layouts.set(key, created)
      return created
    }

    const makeFile = (id: string, taskPrefix: string, config: Options.FileConfig, index: number, taken: Set<string>) =>
      Effect.gen(function*() {
        const name = config.name ?? fileName(id, index)
        // Two files of one name live under distinct keys, as in distinct folders of a bucket.
        const key = taken.has(name) ? `part-${index + 1}/${encodeURIComponent(name)}` : encodeURIComponent(name)
        taken.add(name)
        const seed = yield* random.nextIntBetween(0, 0x7fffffff)
        const source: Files.Source = config.content._tag === "Given"
          ? { _tag: "Given", bytes: config.content.bytes, seed }
          : {
            _tag: "Generated",
            layout: layoutOf(config.content.layout),
            rows: config.content.rows,
            seed,
            compressed: name.toLowerCase().endsWith(".gz")
          }
        return {
          name,
          path: `${taskPrefix}/${key}`,
          source,
          revision: 0,
          body: yield* Files.body(source, name, 0, cache)
        } satisfies FileEntry
      })

    const create = (config: Options.TaskConfig) =>
      SynchronizedRef.modifyEffect(state, (current) =>
        Effect.gen(function*() {
          const id = (yield* uuid(random)) as TaskId
          const prefix = `/files/exports/task=${id}`
          const taken = new Set<string>()
          const files: Array<FileEntry> = []
          for (const [index, file] of config.files.entries()) {
            files.push(yield* makeFile(id, prefix, file, index, taken))
          }
          const record: TaskRecord = {
            id,
            seq: current.tasks.size + 1,
            createdAt: yield* Effect.clockWith((clock) => clock.currentTimeMillis),
            startingFor: Duration.toMillis(config.startingFor),
            runningFor: Duration.toMillis(config.runningFor),
            outcome: config.outcome,
            files,
            gzip: config.gzip,
            ignoreRange: config.ignoreRange,
            accessible: config.accessible,
            description: config.description
          }
          const paths = new Map(current.paths)
          files.forEach((file, index) => paths.set(file.path, [id, index]))
          return [record, { tasks: new Map(current.tasks).set(id, record), paths }] as const
        }))

    const file = (path: string) =>
      Effect.map(SynchronizedRef.get(state), ({ paths, tasks }) =>
        Option.flatMap(Option.fromNullable(paths.get(path)), ([id, index]) => {
          const task = tasks.get(id)
          const file = task?.files[index]
          return task === undefined || file === undefined ? Option.none() : Option.some({ task, file })
        }))

    const changeFile = (path: string) =>
      SynchronizedRef.modifyEffect(state, (current) =>
        Effect.gen(function*() {
          const at = current.paths.get(path)
          const task = at === undefined ? undefined : current.tasks.get(at[0])
          const old = at === undefined ? undefined : task?.files[at[1]]
          if (at === undefined || task === undefined || old === undefined) {
            return [Option.none(), current] as const
          }
          const revision = old.revision + 1
          const changed: FileEntry = {
            ...old,
            revision,
            body: yield* Files.body(old.source, old.name, revision, cache)
          }
          const updated: TaskRecord = {
            ...task,
            files: task.files.map((f, i) =>
              i === at[1] ? changed : f
            )
          }
          return [
            Option.some({ task: updated, file: changed }),
            { ...current, tasks: new Map(current.tasks).set(task.id, updated) }
          ] as const
        }))

    return TaskStore.of({
      create,
      get: (id) => Effect.map(SynchronizedRef.get(state), (s) => Option.fromNullable(s.tasks.get(id.toLowerCase()))),
      all: Effect.map(SynchronizedRef.get(state), (s) => Array.from(s.tasks.values())),
      file,
      changeFile
    })
  })
