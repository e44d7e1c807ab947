/**
 * Runs the TextReveal sandbox standalone, on a fixed port, until interrupted (Ctrl-C).
 *
 *   npm run sandbox                # port 8787
 *   SANDBOX_PORT=9000 npm run sandbox
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Credentials } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/sandbox"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const taskId = yield* sandbox.createTask({ description: "Demo entity export" })
  const running = yield* sandbox.createTask({ startingFor: "30 seconds", runningFor: "2 minutes" })
  const [file] = yield* sandbox.files(taskId)
  const grant = JSON.stringify({
    grant_type: "password",
    username: sandbox.username,
    password: sandbox.password,
    audience: Credentials.defaultAudience,
    client_id: Credentials.defaultClientId
  })
  yield* Console.log(`TextReveal sandbox at ${sandbox.baseUrl}

A completed demo task: ${taskId}
  its first file: ${file!.name}, ${file!.size} bytes, sha256 ${file!.sha256}
A task that completes in 2.5 minutes: ${running}

Get a token:
  TOKEN=$(curl -s -X POST ${sandbox.tokenUrl} -H 'content-type: application/json' \\
    -d '${grant}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')

Call the API:
  curl -s -H "authorization: Bearer $TOKEN" ${sandbox.baseUrl}/tasks/${taskId}/download
  curl -s -H "authorization: Bearer $TOKEN" ${sandbox.baseUrl}/tasks/${running}/status
  curl -s -H "authorization: Bearer $TOKEN" '${sandbox.baseUrl}/tasks?size=10'
  curl -s -X POST -H "authorization: Bearer $TOKEN" ${sandbox.baseUrl}/universes/42/entities/export

Fetch a file: curl -s '<one of the URLs>' | head      (valid 5 minutes; no token)

Or run the main job against it:
  TEXTREVEAL_BASE_URL=${sandbox.baseUrl} TEXTREVEAL_TOKEN_URL=${sandbox.tokenUrl} \\
  TEXTREVEAL_USERNAME=${sandbox.username} TEXTREVEAL_PASSWORD=${sandbox.password} npm start -- ${taskId}

Ctrl-C stops it.`)
  return yield* Effect.never
})

const SandboxLive = Layer.unwrapEffect(
  Effect.map(Config.withDefault(Config.port("SANDBOX_PORT"), 8787), (port) => Sandbox.layer({ port }))
)

NodeRuntime.runMain(program.pipe(Effect.provide(SandboxLive)))
