/**
 * The bytes of a sandbox file: generated CSV, gzip-compressed generated CSV, or bytes given by the test.
 * A file has revisions: a new revision is a new entity (new bytes when generated, a new ETag always), as
 * when an export is rewritten under the same name.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { gzipSync } from "node:zlib"
import * as Csv from "./csv.js"
import * as DiskCache from "./diskCache.js"

/**
 * Where a file's bytes come from.
 *
 * @internal
 */
export type Source =
  | {
    readonly _tag: "Generated"
    readonly layout: Csv.Layout
    readonly rows: number
    readonly seed: number
    /** The bytes are the gzip of the CSV (a `.gz` file). */
    readonly compressed: boolean
  }
  | { readonly _tag: "Given"; readonly bytes: Uint8Array; readonly seed: number }

/**
 * One revision of a file.
 *
 * @internal
 */
export interface Body {
  readonly size: number
  readonly etag: string
  readonly contentType: string
  /** The bytes `[start, end)`, `end` at most {@link size}. */
  readonly bytes: (start: number, end: number) => Stream.Stream<Uint8Array>
  /** The lower-case hex SHA-256 of the whole file, computed once. */
  readonly sha256: Effect.Effect<string>
  /** The path of a copy on disk, once {@link sha256} has written one (big generated files only). */
  readonly onDisk: Effect.Effect<Option.Option<string>>
}

/** A 32-bit seed for a revision: revision 0 is the file's own seed. */
const revisionSeed = (seed: number, revision: number): number =>
  revision === 0 ? seed : (Math.imul(seed ^ revision, 0x9e3779b1) + revision) >>> 0

const inMemory = (bytes: Uint8Array) => (start: number, end: number) => Stream.succeed(bytes.subarray(start, end))

/**
 * The most uncompressed bytes a `.gz` file may have: it is compressed in memory.
 *
 * @internal
 */
export const maxCompressedInput = 64 * 1024 * 1024

/** A whole generated CSV in memory; the caller bounds its size. */
const renderAll = (layout: Csv.Layout, rows: number, seed: number) =>
  Stream.runFold(
    Csv.stream(layout, seed, 0, Csv.size(layout, rows)),
    [] as Array<Uint8Array>,
    (parts, bytes) => {
      parts.push(bytes)
      return parts
    }
  ).pipe(Effect.map((parts) => Buffer.concat(parts)))

/** The lower-case hex SHA-256 of a stream; a new hash object each time it runs. */
const hashOf = (stream: Stream.Stream<Uint8Array>): Effect.Effect<string> =>
  Effect.suspend(() =>
    Stream.runFold(stream, createHash("sha256"), (hash, bytes) => hash.update(bytes)).pipe(
      Effect.map((hash) => hash.digest("hex"))
    )
  )

/**
 * The body of a revision of a file.
 *
 * @internal
 */
export const body = Effect.fnUntraced(function*(
  source: Source,
  name: string,
  revision: number,
  cache: DiskCache.Service
) {
  const seed = revisionSeed(source.seed, revision)
  const contentType = name.toLowerCase().endsWith(".gz") ? "application/gzip" : "text/csv"
  const etag = (size: number) => `"${seed.toString(16).padStart(8, "0")}-${revision}-${size.toString(16)}"`
  const inMemoryBody = (bytes: Uint8Array) =>
    Effect.map(Effect.cached(hashOf(Stream.succeed(bytes))), (sha256): Body => ({
      size: bytes.length,
      etag: etag(bytes.length),
      contentType,
      bytes: inMemory(bytes),
      sha256,
      onDisk: Effect.succeedNone
    }))
  if (source._tag === "Given") return yield* inMemoryBody(source.bytes)
  if (source.compressed) return yield* inMemoryBody(gzipSync(yield* renderAll(source.layout, source.rows, seed)))

  const size = Csv.size(source.layout, source.rows)
  const bytes = (start: number, end: number) => Csv.stream(source.layout, seed, start, end)
  const hashed = yield* Effect.cached(hashOf(bytes(0, size)))
  if (size < DiskCache.threshold) {
    return { size, etag: etag(size), contentType, bytes, sha256: hashed, onDisk: Effect.succeedNone } satisfies Body
  }
  // Written once, when its hash is first asked for (by `files`): the hash has to read every byte anyway.
  const path = yield* Ref.make(Option.none<string>())
  const sha256 = yield* Effect.cached(
    Effect.flatMap(
      cache.write(`${seed.toString(16)}-${revision}.csv`, bytes(0, size)),
      (written) =>
        Option.match(written, {
          onNone: () => hashed,
          onSome: (w) => Effect.as(Ref.set(path, Option.some(w.path)), w.sha256)
        })
    )
  )
  const onDisk = Ref.get(path)
  return { size, etag: etag(size), contentType, bytes, sha256, onDisk } satisfies Body
})
