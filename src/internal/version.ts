/** @internal */
export const libraryVersion = "0.3.0"

/** @internal */
export const userAgent = `effect-textreveal/${libraryVersion}`
