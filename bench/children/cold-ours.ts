/**
 * The `ours` side of the cold start: import the package's main entry (`src` transpiled file by file, the
 * shape of `dist`), build the client and make one `getDownloadUrls` call. Modules are imported by path
 * (`effect/Effect`, not the `effect` barrel), which loads less at start-up.
 *
 *   node cold-ours.mjs <path of index.js> <baseUrl> fetch|undici
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { pathToFileURL } from "node:url"
import type * as Library from "../../src/index.js"
import { report } from "./report.js"

const [entry, baseUrl, transport] = process.argv.slice(2) as [string, string, "fetch" | "undici"]
const { Credentials, TextRevealClient }: typeof Library = await import(pathToFileURL(entry).href)
const http = transport === "fetch"
  ? (await import("@effect/platform/FetchHttpClient")).layer
  : (await import("@effect/platform-node/NodeHttpClient")).layerUndici
const urls = await Effect.runPromise(
  Effect.flatMap(
    TextRevealClient.TextRevealClient,
    (client) => client.getDownloadUrls("f47ac10b-58cc-4372-a567-0e02b2c3d479")
  ).pipe(
    Effect.provide(
      TextRevealClient.layer({ baseUrl }).pipe(
        Layer.provide(Credentials.layerToken(Redacted.make("bench-token"))),
        Layer.provide(http)
      )
    )
  )
)
report({ urls: urls.length })
process.exit(0)
