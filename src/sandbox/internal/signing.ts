/**
 * Signed file URLs in the manner of cloud storage: the path and an expiry, signed with a key that only the
 * sandbox knows.
 *
 * @internal
 */
import * as Context from "effect/Context"
import { createHmac, timingSafeEqual } from "node:crypto"

/** @internal */
export interface Service {
  /** The path with `?expires=<ms>&signature=<hex>`. */
  readonly sign: (path: string, expiresAtMillis: number) => string
  /** Whether `signature` is the signature of `path` and `expires`. */
  readonly verify: (path: string, expires: string | undefined, signature: string | undefined) => boolean
}

/** @internal */
export class Signer extends Context.Tag("effect-textreveal/sandbox/internal/Signer")<Signer, Service>() {}

/**
 * A signer with the given key.
 *
 * @internal
 */
export const make = (key: Uint8Array): Service => {
  const mac = (path: string, expires: string) => createHmac("sha256", key).update(`${path}\n${expires}`).digest()
  return {
    sign: (path, expiresAtMillis) => {
      const expires = String(Math.floor(expiresAtMillis))
      return `${path}?expires=${expires}&signature=${mac(path, expires).toString("hex")}`
    },
    verify: (path, expires, signature) => {
      if (expires === undefined || signature === undefined || !/^[0-9a-f]{64}$/.test(signature)) return false
      return timingSafeEqual(mac(path, expires), Buffer.from(signature, "hex"))
    }
  }
}
