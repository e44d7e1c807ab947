/**
 * Signed file URLs in the manner of cloud storage: the path and an expiry, signed with a secret that only
 * the sandbox knows.
 *
 * @internal
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"

/** @internal */
export interface Signer {
  readonly sign: (path: string, expiresAtMillis: number) => string
  readonly verify: (path: string, expires: string | undefined, signature: string | undefined) => boolean
}

/** @internal */
export const makeSigner = (): Signer => {
  const secret = randomBytes(32)
  const mac = (path: string, expires: string) => createHmac("sha256", secret).update(`${path}\n${expires}`).digest()
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

/**
 * The XML error body cloud storage answers with, e.g. for an expired URL.
 *
 * @internal
 */
export const storageError = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`
