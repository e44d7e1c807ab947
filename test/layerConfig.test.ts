import { assert, describe, it } from "@effect/vitest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { authorizations, fakeApi, getDownloadUrls, ok, taskId, token } from "./fixtures/fakeApi.js"

const configProvider = (entries: ReadonlyArray<readonly [string, string]>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries)))

describe("layerConfig", () => {
  it.effect("Credentials.layerConfig reads TEXTREVEAL_TOKEN", () =>
    Effect.gen(function*() {
      const api = fakeApi(ok())
      const credentials = Credentials.layerConfig.pipe(
        Layer.provide(api.layer),
        Layer.provide(configProvider([["TEXTREVEAL_TOKEN", token]]))
      )
      yield* getDownloadUrls(api, {}, credentials)
      // One request, to the API, with the configured token.
      assert.deepStrictEqual(api.requests.map((r) => r.request.method), ["GET"])
      assert.deepStrictEqual(authorizations(api), [`Bearer ${token}`])
      const service = yield* Effect.provide(Credentials.Credentials, credentials)
      assert.isFalse(service.renewable)
      const access = yield* service.get
      assert.isTrue(Redacted.isRedacted(access.token))
      assert.notInclude(String(access.token), token)
    }))

  it.effect("Credentials.layerConfig fails with a ConfigError when TEXTREVEAL_TOKEN is missing", () =>
    Effect.gen(function*() {
      const credentials = Credentials.layerConfig.pipe(
        Layer.provide(fakeApi(ok()).layer),
        Layer.provide(configProvider([]))
      )
      const error = yield* Effect.flip(Layer.build(credentials).pipe(Effect.scoped))
      assert.isTrue(ConfigError.isConfigError(error))
      assert.isTrue(ConfigError.isMissingDataOnly(error))
      assert.include(String(error), "TEXTREVEAL_TOKEN")
    }))

  const clientFromConfig = (entries: ReadonlyArray<readonly [string, string]>) => {
    const api = fakeApi(ok())
    const layer = TextRevealClient.layerConfig.pipe(
      Layer.provide([api.layer, Credentials.layerToken(Redacted.make(token))]),
      Layer.provide(configProvider(entries))
    )
    return {
      api,
      call: Effect.flatMap(TextRevealClient.TextRevealClient, (client) => client.getDownloadUrls(taskId)).pipe(
        Effect.provide(layer)
      )
    }
  }

  it.effect.each([
    "https://sandbox.textreveal.com/v3",
    "https://sandbox.textreveal.com/v3/"
  ])("TextRevealClient.layerConfig reads TEXTREVEAL_BASE_URL (%s)", (baseUrl) =>
    Effect.gen(function*() {
      const { api, call } = clientFromConfig([["TEXTREVEAL_BASE_URL", baseUrl]])
      yield* call
      assert.deepStrictEqual(api.requests.map((r) => r.url), [
        `https://sandbox.textreveal.com/v3/tasks/${taskId}/download`
      ])
    }))

  it.effect("TextRevealClient.layerConfig defaults to the documented base URL", () =>
    Effect.gen(function*() {
      const { api, call } = clientFromConfig([])
      yield* call
      assert.deepStrictEqual(api.requests.map((r) => r.url), [
        `https://api.textreveal.com/v3/tasks/${taskId}/download`
      ])
    }))

  it.effect("TextRevealClient.layerConfig refuses a TEXTREVEAL_BASE_URL that is not a URL", () =>
    Effect.gen(function*() {
      const { api, call } = clientFromConfig([["TEXTREVEAL_BASE_URL", "not a url"]])
      const error = yield* Effect.flip(call)
      assert.isTrue(ConfigError.isConfigError(error), String(error))
      assert.strictEqual(api.requests.length, 0)
    }))
})
