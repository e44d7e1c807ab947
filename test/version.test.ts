import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { libraryVersion, userAgent } from "../src/internal/version.js"
import { fakeApi, getDownloadUrls, ok } from "./fixtures/fakeApi.js"

const manifest: { readonly name: string; readonly version: string } = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8")
)

describe("version", () => {
  it.effect("the library version is package.json's", () =>
    Effect.sync(() => {
      assert.strictEqual(libraryVersion, manifest.version)
      assert.strictEqual(userAgent, `${manifest.name}/${manifest.version}`)
    }))

  it.effect("the User-Agent sent names the package and its version", () =>
    Effect.gen(function*() {
      const api = fakeApi(ok())
      yield* getDownloadUrls(api)
      assert.strictEqual(api.requests[0]?.request.headers["user-agent"], `effect-textreveal/${manifest.version}`)
    }))
})
