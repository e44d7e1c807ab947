import * as Schema from "effect/Schema"

/**
 * The options of `createClient` cannot be used: missing or half-given credentials, an unusable base URL or
 * token URL, a duration that is not one. Its message names the option or the variables to set, never a value
 * that could be a secret.
 *
 * @internal
 */
export class ConfigurationError extends Schema.TaggedError<ConfigurationError>(
  "effect-textreveal/ConfigurationError"
)("ConfigurationError", {
  message: Schema.String
}) {}

/**
 * A call made after `close()`, or one still running when `close()` interrupted it.
 *
 * @internal
 */
export class ClientClosed extends Schema.TaggedError<ClientClosed>("effect-textreveal/ClientClosed")(
  "ClientClosed",
  {}
) {
  override get message(): string {
    return "The TextReveal client is closed"
  }
}
