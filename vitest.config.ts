import { fileURLToPath } from "node:url"
import { configDefaults, defineConfig } from "vitest/config"

/**
 * Files that `vi.mock` a module: with shared modules the mock would reach the files run after them, and would
 * miss a library module an earlier file had already loaded with the real one.
 */
const isolated = ["test/gzip.test.ts"]

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
    // A limit to catch a test that hangs, not a speed target: a machine busy with other work (npm run
    // test:loaded runs 16 CPU-bound processes beside the suite) stretches a test that takes 3 s alone to 30 s.
    // Tests that run more (child processes, many samples) set limits that scale with what they run.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Most suites wait on sockets, child processes and timers rather than on the CPU: on a 2-core machine
    // vitest's default (cores - 1 = one worker) would run them one after another. All 3 forks live for the whole
    // run: tinypool ends a worker left idle above the minimum with a timer that can fire twice for one worker,
    // and the second end fails the run (`Error: Terminating worker thread`, files never reported).
    // Forks share modules between the files a worker runs (`isolate: false`): Effect and the library are loaded
    // once per worker rather than once per file, which cost about a third of the suite's time. Isolation is a
    // pool's setting, so the files that need it run on the other pool, threads, with a fresh worker per file.
    poolOptions: {
      forks: { isolate: false, maxForks: 3, minForks: 3 },
      threads: { isolate: true, maxThreads: 1, minThreads: 1 }
    },
    // A test never runs a synchronous child process (`spawnSync`, `execFileSync`): it blocks its worker's event
    // loop, and when a busy machine makes that last over 60 s, the worker's pending call to the main process
    // times out before its answer is read (`[vitest-worker]: Timeout calling "onTaskUpdate"`).
    projects: [
      {
        extends: true,
        test: {
          name: "shared",
          include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...isolated],
          // Modules are shared, so a test never reads state another file may have moved: metric counters are
          // compared before and after the call, and each file starts with @effect/vitest's own `it.effect`
          // (see the setup file), so `TestClock` times are the test's own.
          pool: "forks",
          setupFiles: ["test/setup/effectVitest.ts"]
        }
      },
      {
        extends: true,
        test: { name: "isolated", include: isolated, pool: "threads" }
      }
    ]
  }
})
