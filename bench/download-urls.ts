/**
 * getDownloadUrls against the sandbox, side by side with a raw `fetch` of the same endpoint (the
 * baseline: same token, same server, JSON parsed, no validation). Reports the ratio of throughputs.
 *
 *   npm run bench
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Credentials, TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/testing"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const rounds = 5
const callsPerRound = 300

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.timed(effect), ([duration]) => Duration.toMillis(duration))

const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const taskId = yield* sandbox.createTask()
  const access = yield* Effect.flatMap(Credentials.Credentials, (credentials) => credentials.get)
  const token = Redacted.value(access.token)
  const client = yield* TextRevealClient.TextRevealClient
  const url = `${sandbox.baseUrl}/tasks/${taskId}/download`

  const raw = Effect.promise(async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } })
    return (await response.json()) as ReadonlyArray<string>
  })
  const ours = client.getDownloadUrls(taskId)
  const repeat = <A, E>(effect: Effect.Effect<A, E>) => Effect.repeatN(effect, callsPerRound - 1)

  yield* repeat(raw)
  yield* repeat(ours)
  const ratios: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    const baseline = yield* timed(repeat(raw))
    const client = yield* timed(repeat(ours))
    ratios.push(baseline / client)
    yield* Console.log(`round ${round + 1}: raw fetch ${baseline.toFixed(0)} ms, client ${client.toFixed(0)} ms`)
  }
  ratios.sort((a, b) => a - b)
  yield* Console.log(
    `getDownloadUrls throughput vs raw fetch: ${
      ratios[Math.floor(rounds / 2)]!.toFixed(2)
    } (median of ${rounds} rounds of ${callsPerRound} sequential calls; 1.00 = as fast as the baseline)`
  )
})

const Live = Layer.unwrapEffect(
  Effect.map(Sandbox.Sandbox, (sandbox) => {
    const credentials = Credentials.layerPassword({
      username: sandbox.username,
      password: sandbox.password,
      tokenUrl: sandbox.tokenUrl
    })
    return Layer.merge(
      TextRevealClient.layer({ baseUrl: sandbox.baseUrl }).pipe(Layer.provide(credentials)),
      credentials
    )
  })
).pipe(Layer.provideMerge(Sandbox.layer()), Layer.provide(FetchHttpClient.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(Live)))
