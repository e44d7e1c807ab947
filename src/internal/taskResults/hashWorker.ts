import { type PlatformError, SystemError } from "@effect/platform/Error"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import { createHash, type Hash } from "node:crypto"
import { Worker } from "node:worker_threads"

/**
 * The SHA-256 of a file's bytes as they are written. `update` takes bytes in order: running it hands them
 * over and gives an effect that completes once they are hashed; until then they must stay untouched.
 * `digest` gives the hex digest of all of them.
 *
 * @internal
 */
export interface Hasher {
  readonly update: (bytes: Uint8Array) => Effect.Effect<Effect.Effect<void, PlatformError>, PlatformError>
  readonly digest: Effect.Effect<string, PlatformError>
}

/**
 * A hasher on the calling thread.
 *
 * @internal
 */
export const inline = (): Hasher => {
  const hash: Hash = createHash("sha256")
  return {
    update: (bytes) =>
      Effect.sync(() => {
        hash.update(bytes)
        return Effect.void
      }),
    digest: Effect.sync(() => hash.digest("hex"))
  }
}

/*
 * The worker, as code evaluated in a thread of its own (`eval: true`): nothing to resolve on disk, so the same
 * code runs from the sources, from the compiled package and from a bundle. Each file opens with the shared
 * memory its bytes will be in; an update names a range of it and is answered once hashed, in order.
 */
const workerSource = `
"use strict"
const { parentPort } = require("node:worker_threads")
const { createHash } = require("node:crypto")
const files = new Map()
parentPort.on("message", (m) => {
  try {
    if (m.op === "open") {
      files.set(m.file, { hash: createHash("sha256"), bytes: new Uint8Array(m.buffer) })
      return
    }
    const file = files.get(m.file)
    if (m.op === "close") {
      files.delete(m.file)
    } else if (m.op === "update") {
      file.hash.update(file.bytes.subarray(m.offset, m.offset + m.length))
      parentPort.postMessage({ seq: m.seq })
    } else if (m.op === "digest") {
      files.delete(m.file)
      parentPort.postMessage({ seq: m.seq, hex: file.hash.digest("hex") })
    }
  } catch (error) {
    parentPort.postMessage({ seq: m.seq, error: String(error && error.message || error) })
  }
})
`

type Answer = { readonly seq: number; readonly hex?: string; readonly error?: string }
type Waiter = (answer: Answer) => void

/** One worker thread, shared by the files hashed at the same time, and ended when the last one is done. */
interface Shared {
  readonly worker: Worker
  readonly waiters: Map<number, Waiter>
  users: number
  seq: number
  failure: string | undefined
}

let shared: Shared | undefined

const start = (): Shared => {
  const worker = new Worker(workerSource, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2 } })
  const state: Shared = { worker, waiters: new Map(), users: 0, seq: 0, failure: undefined }
  const failAll = (reason: string) => {
    state.failure ??= reason
    if (shared === state) shared = undefined
    const waiters = [...state.waiters.values()]
    state.waiters.clear()
    for (const waiter of waiters) waiter({ seq: -1, error: state.failure })
  }
  worker.on("message", (answer: Answer) => {
    const waiter = state.waiters.get(answer.seq)
    state.waiters.delete(answer.seq)
    // Kept alive only while an answer is awaited: an idle worker never holds the process open.
    if (state.waiters.size === 0) worker.unref()
    waiter?.(answer)
  })
  worker.on("error", (error) => failAll(`the hashing thread failed: ${error.message}`))
  worker.on("exit", (code) => failAll(`the hashing thread exited (${code})`))
  worker.unref()
  return state
}

/** Takes the shared worker (starting it when there is none) for as long as the scope lasts. */
const acquire: Effect.Effect<Shared, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const state = shared ?? start()
    shared = state
    state.users++
    return state
  }),
  (state) =>
    Effect.promise(async () => {
      state.users--
      if (state.users > 0) return
      if (shared === state) shared = undefined
      state.failure ??= "the hashing thread was stopped"
      await state.worker.terminate()
    })
)

const failed = (path: string, description: string): PlatformError =>
  new SystemError({ reason: "Unknown", module: "FileSystem", method: "hash", pathOrDescriptor: path, description })

/**
 * A hasher in a worker thread, for bytes in `buffer` (views of it only), released with the scope: the thread
 * reading the socket only copies bytes, while another core hashes them. `path` names the file in errors. A
 * failure of the thread fails every update and digest under way.
 *
 * @internal
 */
export const inWorker = (
  buffer: SharedArrayBuffer,
  path: string
): Effect.Effect<Hasher, PlatformError, Scope.Scope> =>
  Effect.gen(function*() {
    const state = yield* acquire
    const file = state.seq++
    if (state.failure !== undefined) return yield* Effect.fail(failed(path, state.failure))
    state.worker.postMessage({ op: "open", file, buffer })
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        if (state.failure === undefined) state.worker.postMessage({ op: "close", file })
      })
    )

    /** Posts `message` at once; gives the wait for its answer (a failure of the thread answers it too). */
    const ask = (message: Record<string, unknown>): Effect.Effect<Effect.Effect<Answer, PlatformError>> =>
      Effect.map(Deferred.make<Answer, PlatformError>(), (answered) => {
        if (state.failure !== undefined) {
          Deferred.unsafeDone(answered, Exit.fail(failed(path, state.failure)))
          return Deferred.await(answered)
        }
        const seq = state.seq++
        if (state.waiters.size === 0) state.worker.ref()
        state.waiters.set(seq, (answer) =>
          Deferred.unsafeDone(
            answered,
            answer.error === undefined ? Exit.succeed(answer) : Exit.fail(failed(path, answer.error))
          ))
        state.worker.postMessage({ ...message, file, seq })
        return Deferred.await(answered)
      })

    return {
      update: (bytes) =>
        bytes.buffer === buffer
          ? Effect.map(ask({ op: "update", offset: bytes.byteOffset, length: bytes.length }), Effect.asVoid)
          : Effect.dieMessage("hashWorker: bytes outside the shared buffer"),
      digest: Effect.flatMap(ask({ op: "digest" }), Effect.map((answer) => answer.hex ?? ""))
    }
  })

/**
 * A worker hasher, or an inline one when no worker thread can be started here.
 *
 * @internal
 */
export const make = (
  buffer: SharedArrayBuffer | undefined,
  path: string
): Effect.Effect<Hasher, PlatformError, Scope.Scope> =>
  buffer === undefined
    ? Effect.sync(inline)
    : inWorker(buffer, path).pipe(
      // Starting a thread can fail (a sandbox, a limit on threads): nothing was hashed yet, hash here instead.
      Effect.catchAllDefect(() => Effect.sync(inline))
    )

/**
 * Ends the worker thread under way, as a crash would: every update and digest waiting on it fails.
 *
 * @internal
 */
export const terminate: Effect.Effect<void> = Effect.promise(async () => {
  await shared?.worker.terminate()
})
