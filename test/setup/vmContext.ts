/**
 * Each test file runs in a VM context of its own (`pool: "vmForks"`). Node 20 defines `Symbol.asyncDispose`
 * on its main context's `Symbol` only; a VM context's `Symbol` lacks it, and `await using` (down-levelled by
 * the transform) and `createClient`'s `[Symbol.asyncDispose]` would then not meet. Defined here as Node
 * defines it, once per context.
 */
const symbols = Symbol as { asyncDispose?: symbol; dispose?: symbol }
symbols.asyncDispose ??= Symbol("Symbol.asyncDispose")
symbols.dispose ??= Symbol("Symbol.dispose")
