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
    // A limit to catch a test that hangs, not a speed target: a machine busy with other work (npm run
    // test:loaded runs 16 CPU-bound processes beside the suite) stretches a test that takes 3 s alone to 30 s.
    // Tests that run more (child processes, many samples) set limits that scale with what they run.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Most suites wait on sockets, child processes and timers rather than on the CPU: on a 2-core machine
    // vitest's default (cores - 1 = one worker) would run them one after another.
    maxWorkers: 3,
    minWorkers: 1,
    // Each file in a process of its own (vitest's default). Sharing processes between files (`isolate: false`)
    // saves most of the import time, but then tests that read absolute `TestClock` times or metric counters,
    // or mix `TestClock` with real sockets, pass or fail depending on which file ran before them.
    pool: "forks",
    isolate: true
    // A test never runs a synchronous child process (`spawnSync`, `execFileSync`): it blocks its worker's event
    // loop, and when a busy machine makes that last over 60 s, the worker's pending call to the main process
    // times out before its answer is read (`[vitest-worker]: Timeout calling "onTaskUpdate"`).
  }
})
