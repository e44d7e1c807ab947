/**
 * Big generated files written once to a temporary directory, then served from disk like a static file:
 * rendering a file competes with the client for the CPU, a file read does not. A file is written when its
 * SHA-256 is first asked for (`Sandbox.files`), which reads every byte anyway; until then it is rendered on
 * each request. The directory is removed when the sandbox stops. When the disk refuses (full, read-only),
 * files stay rendered: slower, never wrong.
 *
 * @internal
 */
import * as NodeSink from "@effect/platform-node/NodeSink"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { createWriteStream, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * Files smaller than this are rendered on each request: it costs less than a disk round trip.
 *
 * @internal
 */
export const threshold = 8 * 1024 * 1024

/** @internal */
export interface Written {
  readonly path: string
  /** Lower-case hex SHA-256 of the bytes written. */
  readonly sha256: string
}

/** @internal */
export interface Service {
  /** Writes a file under `name`, hashing it on the way; none when the disk refused. */
  readonly write: (name: string, bytes: Stream.Stream<Uint8Array>) => Effect.Effect<Option.Option<Written>>
}

/**
 * The cache of one sandbox, in a fresh temporary directory removed with the scope.
 *
 * @internal
 */
export const make: Effect.Effect<Service, never, Scope.Scope> = Effect.gen(function*() {
  const directory = yield* Effect.acquireRelease(
    Effect.option(Effect.try(() => mkdtempSync(join(tmpdir(), "effect-textreveal-sandbox-")))),
    (dir) =>
      Option.match(dir, {
        onNone: () => Effect.void,
        // Best effort: a directory that cannot be removed is left to the system's temporary-file cleanup.
        onSome: (path) => Effect.ignore(Effect.try(() => rmSync(path, { recursive: true, force: true })))
      })
  )
  const write = (name: string, bytes: Stream.Stream<Uint8Array>) =>
    Option.match(directory, {
      onNone: () => Effect.succeedNone,
      onSome: (dir) =>
        Effect.suspend(() => {
          const path = join(dir, name)
          const hash = createHash("sha256")
          return bytes.pipe(
            Stream.tap((chunk) => Effect.sync(() => hash.update(chunk))),
            Stream.run(NodeSink.fromWritable(() => createWriteStream(path), (error) => error)),
            Effect.map(() => Option.some<Written>({ path, sha256: hash.digest("hex") })),
            Effect.catchAll((error) =>
              Effect.as(
                Effect.logWarning(
                  "effect-textreveal sandbox: cannot cache a file on disk; rendering it instead",
                  error
                ),
                Option.none()
              )
            )
          )
        })
    })
  return { write }
})
