/**
 * The services the commands run on: the library's own layers, configured from the environment exactly as
 * an application would configure them, so that the command line inherits every retry, renewal and resume
 * rule.
 *
 * @internal
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Credentials from "../Credentials.js"
import * as TaskResults from "../TaskResults.js"
import * as TextRevealClient from "../TextRevealClient.js"

/**
 * `Credentials.layerConfig`, logging at `DEBUG` (`--verbose`) each token it obtains or renews: when, never
 * what.
 */
const credentials = Layer.map(Credentials.layerConfig, (context) => {
  const service = Context.get(context, Credentials.Credentials)
  return Context.make(
    Credentials.Credentials,
    Credentials.Credentials.of({
      ...service,
      get: Effect.tap(
        service.get,
        (access) => access.fresh ? Effect.logDebug("TextReveal token obtained (password grant)") : Effect.void
      )
    })
  )
})

/**
 * Undici, loaded when a command needs it: `--help` and usage errors do not pay for its half megabyte.
 */
const undici = Layer.unwrapEffect(
  Effect.map(Effect.promise(() => import("@effect/platform-node/NodeHttpClient")), (module) => module.layerUndici)
)

/**
 * `TaskResults` and the `TextRevealClient` under it, from `TEXTREVEAL_*` variables, on Undici.
 *
 * @internal
 */
export const api: Layer.Layer<
  TaskResults.TaskResults | TextRevealClient.TextRevealClient,
  ConfigError.ConfigError,
  FileSystem.FileSystem | Path.Path
> = TaskResults.layer().pipe(
  Layer.provideMerge(TextRevealClient.layerConfig),
  Layer.provide(credentials),
  Layer.provide(undici)
)
