import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^effect-textreveal\/sandbox$/,
        replacement: fileURLToPath(new URL("./src/sandbox/index.ts", import.meta.url))
      },
      {
        find: /^effect-textreveal\/testing$/,
        replacement: fileURLToPath(new URL("./src/testing/index.ts", import.meta.url))
      },
      { find: /^effect-textreveal$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) }
    ]
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 30_000,
    // Most suites wait on sockets, child processes and timers rather than on the CPU: on a 2-core machine
    // vitest's default (cores - 1 = one worker) would run them one after another.
    maxWorkers: 3,
    minWorkers: 1
  }
})
