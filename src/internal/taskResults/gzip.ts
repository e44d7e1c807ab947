import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Zlib from "node:zlib"
import { DownloadError } from "../../TaskResultsError.js"

/**
 * The bytes of a file, gunzipped when they start with the gzip header (`1f 8b`): a body sent with
 * `Content-Encoding: gzip` that the `HttpClient` did not decode, or a `.gz` file. A CSV never starts with
 * these bytes (`1f` is a control character), and a body the client already decoded passes through.
 *
 * @internal
 */
export const maybeGunzip =
  (fileName: string) =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | DownloadError, R> =>
    Stream.suspend(() => {
      let mode: "unknown" | "plain" | "gzip" = "unknown"
      let head: Uint8Array = new Uint8Array(0)
      let gunzip: Zlib.Gunzip | undefined
      let out: Array<Uint8Array> = []
      let failure: Error | undefined

      const corrupt = (error: Error) =>
        new DownloadError({
          fileName,
          reason: "Decompression",
          message: `${fileName}: the gzip data is corrupt (${(error as { code?: string }).code ?? "unreadable"})`
        })

      const take = (): Chunk.Chunk<Uint8Array> => {
        const chunk = Chunk.unsafeFromArray(out)
        out = []
        return chunk
      }

      const open = (): Zlib.Gunzip => {
        const stream = Zlib.createGunzip()
        stream.on("data", (data: Uint8Array) => out.push(data))
        stream.on("error", (error) => {
          failure = error
        })
        return stream
      }

      const feed = (data: Uint8Array): Effect.Effect<Chunk.Chunk<Uint8Array>, DownloadError> =>
        Effect.async<Chunk.Chunk<Uint8Array>, DownloadError>((resume) => {
          gunzip!.write(data, (error) => {
            if (error ?? failure) resume(Effect.fail(corrupt((error ?? failure)!)))
            else resume(Effect.succeed(take()))
          })
        })

      const onBytes = (data: Uint8Array): Effect.Effect<Chunk.Chunk<Uint8Array>, DownloadError> => {
        if (mode === "plain") return Effect.succeed(Chunk.of(data))
        if (mode === "gzip") return feed(data)
        if (head.length + data.length < 2) {
          const joined = new Uint8Array(head.length + data.length)
          joined.set(head)
          joined.set(data, head.length)
          head = joined
          return Effect.succeed(Chunk.empty())
        }
        const first = head.length > 0 ? Buffer.concat([head, data]) : data
        head = new Uint8Array(0)
        if (first[0] === 0x1f && first[1] === 0x8b) {
          mode = "gzip"
          gunzip = open()
          return feed(first)
        }
        mode = "plain"
        return Effect.succeed(Chunk.of(first))
      }

      const end = Effect.suspend((): Effect.Effect<Chunk.Chunk<Uint8Array>, DownloadError> => {
        if (mode === "unknown") return Effect.succeed(head.length > 0 ? Chunk.of(head) : Chunk.empty())
        if (mode === "plain") return Effect.succeed(Chunk.empty())
        return Effect.async<Chunk.Chunk<Uint8Array>, DownloadError>((resume) => {
          if (failure !== undefined) return resume(Effect.fail(corrupt(failure)))
          gunzip!.once("error", (error) => resume(Effect.fail(corrupt(error))))
          gunzip!.once("end", () => resume(Effect.succeed(take())))
          gunzip!.end()
        })
      })

      return bytes.pipe(
        Stream.mapEffect(onBytes),
        Stream.concat(Stream.fromEffect(end)),
        Stream.flattenChunks,
        Stream.ensuring(Effect.sync(() => gunzip?.destroy()))
      )
    })
