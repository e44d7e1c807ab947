/** @internal */
export const libraryVersion = "0.2.0"

/** @internal */
export const userAgent = `effect-textreveal/${libraryVersion}`
