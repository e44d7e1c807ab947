import { assert, describe, it } from "@effect/vitest"
import { TextRevealClient } from "effect-textreveal"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import {
  apiError,
  authorizations,
  failureOf,
  fakeApi,
  fakeCredentials,
  getDownloadUrls,
  ok,
  runFor,
  taskId
} from "./fixtures/fakeApi.js"

const unauthorized = apiError(401, "unauthorized", "invalid username or API key")
const forbidden = apiError(403, "forbidden", "Not authorized to access this resource")

describe("Credentials", () => {
  describe("a rejected token is discarded", () => {
    it.effect.each([
      { status: 401, reply: unauthorized, tag: "Unauthorized" },
      { status: 403, reply: forbidden, tag: "Forbidden" }
    ])("$status invalidates the token; not renewable, so not repeated", ({ reply, tag }) =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: false })
        const api = fakeApi(reply, ok())
        const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
        assert.strictEqual(error._tag, tag)
        assert.deepStrictEqual(credentials.invalidated, ["tok-1"])
        assert.strictEqual(api.requests.length, 1)
      }))

    it.effect.each([400, 404, 429, 500])("%d does not invalidate the token", (status) =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: false })
        const api = fakeApi(apiError(status, "x", "x"))
        yield* runFor(getDownloadUrls(api, { retry: false, transientRetry: false }, credentials.layer))
        assert.deepStrictEqual(credentials.invalidated, [])
      }))

    it.effect("layerToken: a 401 fails with Unauthorized after one request", () =>
      Effect.gen(function*() {
        const api = fakeApi(unauthorized, ok())
        const error = failureOf(yield* runFor(getDownloadUrls(api)))
        assert.strictEqual(error._tag, "Unauthorized")
        assert.strictEqual(api.requests.length, 1)
      }))
  })

  describe("renewable credentials", () => {
    it.effect("401: invalidates, then repeats once with the new token", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(unauthorized, ok())
        const exit = yield* runFor(getDownloadUrls(api, {}, credentials.layer))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.deepStrictEqual(credentials.invalidated, ["tok-1"])
        assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2"])
      }))

    it.effect("the repeat counts as an attempt", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(unauthorized, apiError(500, "internal", "Internal error"))
        const error = failureOf(yield* runFor(getDownloadUrls(api, { transientRetry: false }, credentials.layer)))
        assert.isTrue(error._tag === "ServerError" && error.attempts === 2, String(error))
      }))

    it.effect("a second 401 is returned", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(unauthorized, unauthorized, ok())
        const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
        assert.strictEqual(error._tag, "Unauthorized")
        assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2"])
        assert.deepStrictEqual(credentials.invalidated, ["tok-1", "tok-2"])
      }))

    it.effect("a 401 on a fresh token is repeated too", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true, fresh: [true, true] })
        const api = fakeApi(unauthorized, ok())
        assert.isTrue(Exit.isSuccess(yield* runFor(getDownloadUrls(api, {}, credentials.layer))))
        assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2"])
      }))

    it.effect("403 on a fresh token: a real refusal, not repeated", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true, fresh: [true] })
        const api = fakeApi(forbidden, ok())
        const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
        assert.strictEqual(error._tag, "Forbidden")
        assert.strictEqual(api.requests.length, 1)
      }))

    it.effect("403 on a token from memory (fresh: false): repeated once with a new token", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true, fresh: [false, true] })
        const api = fakeApi(forbidden, ok())
        const exit = yield* runFor(getDownloadUrls(api, {}, credentials.layer))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2"])
        assert.deepStrictEqual(credentials.invalidated, ["tok-1"])
      }))

    it.effect("403 then 403 on the renewed token is returned after one repeat", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(forbidden)
        const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
        assert.strictEqual(error._tag, "Forbidden")
        assert.strictEqual(api.requests.length, 2)
      }))

    it.effect("at most one renewal per call, even when a 429 retry comes between", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(
          unauthorized,
          apiError(429, "too_many_requests", "slow down", { "retry-after": "1" }),
          unauthorized,
          ok()
        )
        const error = failureOf(yield* runFor(getDownloadUrls(api, {}, credentials.layer)))
        assert.strictEqual(error._tag, "Unauthorized")
        assert.strictEqual(api.requests.length, 3)
      }))

    it.effect("each call may renew once", () =>
      Effect.gen(function*() {
        const credentials = fakeCredentials({ renewable: true })
        const api = fakeApi(unauthorized, ok(), unauthorized, ok())
        const client = yield* Effect.provide(
          TextRevealClient.TextRevealClient,
          TextRevealClient.layer().pipe(Layer.provide([api.layer, credentials.layer]))
        )
        yield* runFor(client.getDownloadUrls(taskId))
        const exit = yield* runFor(client.getDownloadUrls(taskId))
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        assert.deepStrictEqual(authorizations(api), ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2", "Bearer tok-3"])
      }))
  })
})
