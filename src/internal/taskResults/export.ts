/**
 * `TaskResults.export`: start an export (or continue the one a directory records), wait for it, download it.
 *
 * @internal
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"
import * as ExportResource from "../exportResource.js"
import * as Manifest from "./manifest.js"

/** The deepest body accepted: filters nest a few levels, never hundreds. */
const maxDepth = 64

/**
 * The canonical JSON of a body: object keys sorted, no spaces, `undefined` members left out (as
 * `JSON.stringify` does), so that two bodies that mean the same give the same text. A value JSON cannot hold
 * (a `bigint`, a function, a non-finite number, a cycle or more than 64 levels) is `Left` with why. Pure.
 *
 * @internal
 */
export const canonicalJson = (value: unknown): Either.Either<string, string> => {
  const write = (v: unknown, depth: number): string => {
    if (depth > maxDepth) throw new RangeError(`nested more than ${maxDepth} levels (or a cycle)`)
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v)
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new RangeError("a number that is not finite")
      return JSON.stringify(v)
    }
    if (Array.isArray(v)) return `[${v.map((item) => write(item === undefined ? null : item, depth + 1)).join(",")}]`
    if (typeof v === "object") {
      const keys = Object.keys(v).sort()
      const members: Array<string> = []
      for (const key of keys) {
        const member = (v as Record<string, unknown>)[key]
        if (member !== undefined) members.push(`${JSON.stringify(key)}:${write(member, depth + 1)}`)
      }
      return `{${members.join(",")}}`
    }
    throw new RangeError(`a value of type ${typeof v}`)
  }
  // `write` throws only the RangeErrors above: a recursion is the plainest way to walk a tree of unknown shape.
  return Either.try({ try: () => write(value, 0), catch: (e) => (e as Error).message })
}

/**
 * What an export request is known by in the record: its resource and the SHA-256 of its canonical body.
 *
 * @internal
 */
export interface Request {
  readonly resource: string
  readonly bodySha256: string
}

/**
 * The request of `resource` and `body`, or the `Invalid` that refuses it before anything is sent or written.
 *
 * @internal
 */
export const request = (resource: string, body: unknown) =>
  Effect.flatMap(ExportResource.validate(resource), (path) =>
    Either.match(canonicalJson(body ?? {}), {
      onLeft: (why) => Effect.fail(ExportResource.invalid("body", "must be a JSON object", why)),
      onRight: (json): Effect.Effect<Request> =>
        Effect.succeed({ resource: path, bodySha256: createHash("sha256").update(json).digest("hex") })
    }))

/**
 * What to do given the directory's record: continue its task when it records the same request (and `fresh`
 * was not asked), else start an export. Pure.
 *
 * @internal
 */
export const plan = (
  record: Option.Option<Manifest.ExportRecord>,
  wanted: Request,
  fresh: boolean
): { readonly _tag: "Continue"; readonly taskId: string } | { readonly _tag: "Start" } =>
  !fresh && Option.isSome(record) && record.value.resource === wanted.resource &&
    record.value.bodySha256 === wanted.bodySha256
    ? { _tag: "Continue", taskId: record.value.taskId }
    : { _tag: "Start" }

/**
 * Whether a recorded task cannot be continued: it failed, or its results are gone (`NotFound`: kept one week).
 *
 * @internal
 */
export const abandoned = (error: { readonly _tag: string }): boolean =>
  error._tag === "TaskFailed" || error._tag === "NotFound"

/**
 * Reads the record of `directory` (created when missing).
 *
 * @internal
 */
export const readRecord = (fs: FileSystem.FileSystem, path: Path.Path, directory: string) =>
  Effect.zipRight(fs.makeDirectory(directory, { recursive: true }), Manifest.readExport(path, directory))
