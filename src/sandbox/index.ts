/**
 * The TextReveal sandbox server, for tests and demos: `import { Sandbox } from "effect-textreveal/sandbox"`.
 *
 * @since 0.2.0
 */
export * as Sandbox from "./Sandbox.js"
