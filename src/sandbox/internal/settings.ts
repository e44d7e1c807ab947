/**
 * What the routes need to know of the sandbox they serve: its origin and its checked options.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Options from "./options.js"

/** @internal */
export interface Service extends Options.Config {
  /** `http://127.0.0.1:<port>`: the origin of the API, the token endpoint and the file host. */
  readonly origin: string
}

/** @internal */
export class Settings extends Context.Tag("effect-textreveal/sandbox/internal/Settings")<Settings, Service>() {}
