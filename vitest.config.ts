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
    // Each file in a VM context of its own, in worker processes that are reused: the isolation of a process per
    // file (module state, `vi.mock`) without starting Node and vitest's runtime for each file, which cost half
    // of the suite's CPU. Sharing modules between files (`isolate: false`) would save more, but then tests that
    // read absolute `TestClock` times or metric counters pass or fail depending on which file ran before them.
    pool: "vmForks",
    // A worker whose heap has grown past this is replaced: VM contexts are known to leave memory behind.
    poolOptions: { vmForks: { memoryLimit: "1024MB" } },
    setupFiles: ["test/setup/vmContext.ts"]
    // A test never runs a synchronous child process (`spawnSync`, `execFileSync`): it blocks its worker's event
    // loop, and when a busy machine makes that last over 60 s, the worker's pending call to the main process
    // times out before its answer is read (`[vitest-worker]: Timeout calling "onTaskUpdate"`).
  }
})
