/**
 * Gzip decompression of a byte stream, pulled: one input chunk is written to zlib only when the output of
 * the one before has been taken, and that output is handed on in pieces of at most `pieceSize` bytes as the
 * consumer asks for them, so memory stays flat however much a chunk inflates to.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Zlib from "node:zlib"
import { DownloadError } from "../../TaskResultsError.js"

/**
 * The most bytes of output in one emitted `Uint8Array`: zlib's output buffer. zlib stops inflating when
 * one such piece waits to be read, and goes on when it is.
 *
 * @internal
 */
export const pieceSize = 64 * 1024

const decompressionError = (fileName: string, why: string) =>
  new DownloadError({ fileName, reason: "Decompression", message: `${fileName}: ${why}` })

/** zlib's messages are fixed texts ("incorrect data check", "unexpected end of file"): no byte of the data. */
const fromZlib = (fileName: string, error: Error): DownloadError => {
  const code = (error as NodeJS.ErrnoException).code
  const truncated = code === "Z_BUF_ERROR"
  return decompressionError(
    fileName,
    `${truncated ? "the gzip data is truncated" : "the gzip data is corrupt"} (${code ?? "error"}: ${error.message})`
  )
}

/**
 * One zlib `Gunzip` in paused mode, read with `read()`. Every way it can go (output ready, input taken, end,
 * error, close) wakes whoever waits, so that a failure zlib only reports as an `error` event settles too.
 */
interface Inflater {
  /** Writes one chunk of input; the output it gives, pulled piece by piece, ends once zlib has taken it all. */
  readonly write: (bytes: Uint8Array) => Stream.Stream<Uint8Array, DownloadError>
  /** Ends the input; the last output, then a failure if input was left after the last gzip member. */
  readonly end: Stream.Stream<Uint8Array, DownloadError>
  readonly destroy: Effect.Effect<void>
}

const makeInflater = (fileName: string): Inflater => {
  const zlib = Zlib.createGunzip({ chunkSize: pieceSize })
  let failure: DownloadError | undefined
  let inputTaken = true
  let ended = false
  let closed = false
  let written = 0
  // Set by every event; cleared before the state is read. Waiting when it is set would miss that event.
  let signalled = false
  let wake: (() => void) | undefined
  const signal = () => {
    signalled = true
    const resume = wake
    wake = undefined
    resume?.()
  }
  const fail = (error: Error) => {
    failure ??= fromZlib(fileName, error)
    signal()
  }
  zlib.on("readable", signal)
  zlib.on("error", fail)
  zlib.on("end", () => {
    ended = true
    signal()
  })
  zlib.on("close", () => {
    closed = true
    signal()
  })

  const nextEvent = Effect.async<void>((resume) => {
    if (signalled) return resume(Effect.void)
    wake = () => resume(Effect.void)
    return Effect.sync(() => {
      wake = undefined
    })
  })

  /** The next piece of output, or the end once `done` holds and nothing is left to read. */
  const nextPiece = (done: () => boolean): Effect.Effect<Uint8Array, Option.Option<DownloadError>> =>
    Effect.suspend(() => {
      signalled = false
      if (failure !== undefined) return Effect.fail(Option.some(failure))
      // At most one piece's worth even when zlib has pushed more than one small piece; `read()` with nothing
      // buffered lets zlib go on (and emits `end` once all is read).
      const available = zlib.readableLength
      const piece = zlib.read(available === 0 ? undefined : Math.min(available, pieceSize)) as Buffer | null
      if (piece !== null) return Effect.succeed(piece)
      if (done()) return Effect.fail(Option.none())
      if (closed) {
        return Effect.fail(Option.some(decompressionError(fileName, "the gzip decoder closed before the end")))
      }
      return Effect.zipRight(nextEvent, nextPiece(done))
    })

  const drain = (done: () => boolean) => Stream.repeatEffectOption(nextPiece(done))

  return {
    write: (bytes) =>
      Stream.suspend(() => {
        if (failure !== undefined) return Stream.fail(failure)
        if (bytes.length === 0) return Stream.empty
        inputTaken = false
        written += bytes.length
        zlib.write(bytes, (error) => {
          if (error) fail(error)
          inputTaken = true
          signal()
        })
        return drain(() => inputTaken)
      }),
    end: Stream.suspend(() => {
      if (failure !== undefined) return Stream.fail(failure)
      if (written === 0) return Stream.fail(decompressionError(fileName, "the body is empty: no gzip data"))
      zlib.end()
      return drain(() => ended)
    }).pipe(
      Stream.concat(Stream.suspend(() =>
        // zlib skips zero bytes after a gzip member without a word: any byte left over is data that is not
        // gzip.
        zlib.bytesWritten < written
          ? Stream.fail(
            decompressionError(fileName, `${written - zlib.bytesWritten} bytes follow the end of the gzip data`)
          )
          : Stream.empty
      ))
    ),
    destroy: Effect.sync(() => {
      zlib.destroy()
    })
  }
}

/**
 * Gunzips a byte stream (a body with `Content-Encoding: gzip`, or a `.gz` file). Gzip members one after the
 * other are read as one (RFC 1952). Corrupt, truncated or empty data, or bytes after the last member, fail
 * with a `DownloadError` `"Decompression"` naming `fileName`. The decoder is released when the stream ends,
 * fails or is interrupted.
 *
 * @internal
 */
export const gunzip =
  (fileName: string) =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | DownloadError, R> =>
    Stream.unwrapScoped(
      Effect.map(
        Effect.acquireRelease(Effect.sync(() => makeInflater(fileName)), (inflater) => inflater.destroy),
        (inflater) => bytes.pipe(Stream.flatMap(inflater.write), Stream.concat(inflater.end))
      )
    )

const isGzipStart = (head: ReadonlyArray<number>) =>
  head.length >= 2 ? head[0] === 0x1f && head[1] === 0x8b : head.length === 1 && head[0] === 0x1f

/**
 * The bytes of a file, gunzipped when they start with the gzip header (`1f 8b`): a body sent with
 * `Content-Encoding: gzip` that the `HttpClient` did not decode, or a `.gz` file. A CSV never starts with
 * these bytes (`1f` is a control character), and a body the client already decoded passes through. A body of
 * the single byte `1f` is a truncated gzip header; an empty body passes through.
 *
 * @internal
 */
export const maybeGunzip =
  (fileName: string) =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | DownloadError, R> =>
    Stream.unwrapScoped(Effect.gen(function*() {
      const pull = yield* Stream.toPull(bytes)
      // The first chunks, until they hold two bytes (or the stream ends): enough to tell gzip from the rest.
      const first: Array<Uint8Array> = []
      const head: Array<number> = []
      let more = true
      while (more && head.length < 2) {
        const chunk = yield* pull.pipe(
          Effect.asSome,
          Effect.catchAll(Option.match({ onNone: () => Effect.succeedNone, onSome: Effect.fail }))
        )
        if (Option.isNone(chunk)) more = false
        else {
          for (const bytes of chunk.value) {
            first.push(bytes)
            for (let i = 0; i < bytes.length && head.length < 2; i++) head.push(bytes[i]!)
          }
        }
      }
      const rest = Stream.fromChunk(Chunk.unsafeFromArray(first)).pipe(
        Stream.concat(more ? Stream.repeatEffectChunkOption(pull) : Stream.empty)
      )
      return isGzipStart(head) ? gunzip(fileName)(rest) : rest
    }))
