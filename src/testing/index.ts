/**
 * @since 0.1.0
 */
export * as TextRevealClientTest from "./TextRevealClientTest.js"
