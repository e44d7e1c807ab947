/**
 * The main job: the signed download URLs of a task, with their expiry, and each file fetched.
 *
 *   npm start                                   # against the embedded sandbox, on a demo task
 *   TEXTREVEAL_TOKEN=... npm start -- <task-id>  # against the TextReveal API
 *   TEXTREVEAL_USERNAME=... TEXTREVEAL_PASSWORD=... npm start -- <task-id>
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { Credentials, TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/testing"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** Prints the task's URLs, then fetches each file with a plain GET (never with the API token). */
const showTask = (taskId: string) =>
  Effect.gen(function*() {
    const client = yield* TextRevealClient.TextRevealClient
    const http = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
    const urls = yield* client.getDownloadUrls(taskId)
    yield* Console.log(`Task ${taskId}: ${urls.length} file(s)`)
    for (const url of urls) {
      yield* Console.log(`  ${url.fileName}\n    expires ${DateTime.formatIso(url.expiresAt)}`)
      const response = yield* http.get(url.url)
      const bytes = yield* Stream.runFold(response.stream, 0, (total, chunk) => total + chunk.length)
      yield* Console.log(`    fetched ${bytes.toLocaleString("en-US")} bytes`)
    }
  })

const explain = (error: TextRevealClient.ApiError): string => {
  switch (error._tag) {
    case "Invalid":
      return `Invalid request: ${error.message}${error.errors.map((f) => `\n  ${f.field}: ${f.message}`).join("")}`
    case "Unauthorized":
      return `The credentials were refused (${error.message}). Check TEXTREVEAL_TOKEN or TEXTREVEAL_USERNAME/PASSWORD.`
    case "Forbidden":
      return `This account may not access the task (${error.message}).`
    case "NotFound":
      return `No such task, or not visible to this account (${error.message}). Results are kept one week.`
    case "TooManyRequests":
      return `Still rate limited after ${error.attempts} attempt(s): ${error.message} Try again later.`
    case "ServerError":
      return `TextReveal failed with ${error.status} after ${error.attempts} attempt(s): ${error.message}`
    case "RequestError":
      return `Could not reach TextReveal: ${error.message}`
    case "ResponseError":
      return `Unexpected answer: ${error.message}`
  }
}

const againstSandbox = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  yield* Console.log(
    `No TextReveal credentials set: running against the embedded sandbox at ${sandbox.baseUrl}\n`
  )
  const taskId = yield* sandbox.createTask()
  const ClientLive = TextRevealClient.layer({ baseUrl: sandbox.baseUrl }).pipe(
    Layer.provide(Credentials.layerPassword({
      username: sandbox.username,
      password: sandbox.password,
      tokenUrl: sandbox.tokenUrl
    }))
  )
  yield* showTask(taskId).pipe(Effect.provide(ClientLive))
}).pipe(Effect.provide(Sandbox.layer()))

const againstApi = (taskId: string) =>
  showTask(taskId).pipe(
    Effect.provide(TextRevealClient.layerConfig.pipe(Layer.provide(Credentials.layerConfig)))
  )

const main = Effect.gen(function*() {
  const token = yield* Config.option(Config.redacted("TEXTREVEAL_TOKEN"))
  const username = yield* Config.option(Config.redacted("TEXTREVEAL_USERNAME"))
  if (Option.isNone(token) && Option.isNone(username)) return yield* againstSandbox
  const taskId = process.argv[2]
  if (taskId === undefined) {
    yield* Console.error("Usage: npm start -- <task-id>")
    process.exitCode = 2
    return
  }
  yield* againstApi(taskId)
}).pipe(
  Effect.catchTags({
    ConfigError: (error) =>
      Effect.zipRight(Console.error(`Configuration: ${error.message}`), Effect.sync(() => process.exitCode = 2)),
    ServeError: (error) =>
      Effect.zipRight(
        Console.error(`Could not start the sandbox: ${error.message}`),
        Effect.sync(() => process.exitCode = 1)
      )
  }),
  Effect.catchAll((error) => Effect.zipRight(Console.error(explain(error)), Effect.sync(() => process.exitCode = 1))),
  Effect.provide(FetchHttpClient.layer)
)

NodeRuntime.runMain(main)
