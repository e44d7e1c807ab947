// Extracts every ```ts block of README.md and of each docs/*.md (not the generated docs/modules/) into
// .readme-snippets/<document>-<n>.ts (n from 1, in the document's order), so that all of them can be
// type-checked in one tsc run under the project's tsconfig:
//
//   node scripts/readme-snippets.mjs && npx tsc --noEmit -p .readme-snippets/tsconfig.json
//
// Each block must be self-contained, imports included. A block whose first line is
// `// not compiled: <reason>` is skipped (use sparingly). The folder is deleted first, and also holds:
// - tsconfig.json: extends ../tsconfig.json, includes only the snippets, allows unused locals, and keeps
//   tsc's incremental state in node_modules/.cache/ (ignored by git), so that a run after the first
//   re-checks only what changed;
// - snippets.json: for each block, its document, its file (or null when skipped), the document's line of its
//   first code line and the reason of a skip, to point a diagnostic at its line in the document.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const outdir = join(root, ".readme-snippets")

const optOut = /^\s*\/\/\s*not compiled:\s*(.*)$/

/** README.md, then docs/*.md in name order: the documents whose ts blocks must compile. */
const documents = async () => {
  const docs = await readdir(join(root, "docs"), { withFileTypes: true }).catch(() => [])
  return [
    "README.md",
    ...docs.filter((entry) => entry.isFile() && entry.name.endsWith(".md")).map((entry) => `docs/${entry.name}`)
      .sort()
  ]
}

/** A file name for a document's snippets: `README.md` gives `readme`, `docs/cli.md` gives `docs-cli`. */
const slug = (document) => document.replace(/\.md$/, "").replace(/[^A-Za-z0-9]+/g, "-").toLowerCase()

/** The ```ts (or ```typescript) fenced blocks of a Markdown text, with the line of their first code line. */
const extractBlocks = (markdown) => {
  const lines = markdown.split(/\r?\n/)
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i])
    if (open === null) continue
    const [, indent, fence, info] = open
    const close = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`)
    let end = i + 1
    while (end < lines.length && !close.test(lines[end])) end++
    if (info === "ts" || info === "typescript") {
      blocks.push({
        line: i + 2,
        code: lines.slice(i + 1, end).map((line) => line.startsWith(indent) ? line.slice(indent.length) : line)
      })
    }
    i = end
  }
  return blocks
}

await rm(outdir, { recursive: true, force: true })
await mkdir(outdir, { recursive: true })

const manifest = []
const summary = []
for (const document of await documents()) {
  const blocks = extractBlocks(await readFile(join(root, document), "utf8"))
  for (const [index, block] of blocks.entries()) {
    const n = index + 1
    const skip = optOut.exec(block.code[0] ?? "")
    if (skip !== null) {
      manifest.push({
        document,
        snippet: n,
        file: null,
        line: block.line,
        skipped: skip[1].trim() || "(no reason given)"
      })
      continue
    }
    const file = `${slug(document)}-${n}.ts`
    // `export {}` after the block: a block without imports is a module too (its names stay its own), and
    // line k of the file is line k of the block.
    await writeFile(join(outdir, file), `${block.code.join("\n")}\nexport {}\n`)
    manifest.push({ document, snippet: n, file, line: block.line })
  }
  summary.push(`${document}: ${blocks.length}`)
}

await writeFile(
  join(outdir, "tsconfig.json"),
  JSON.stringify(
    {
      extends: "../tsconfig.json",
      compilerOptions: {
        noUnusedLocals: false,
        incremental: true,
        tsBuildInfoFile: "../node_modules/.cache/readme-snippets/tsconfig.tsbuildinfo"
      },
      include: ["*.ts"]
    },
    null,
    2
  ) + "\n"
)
await writeFile(join(outdir, "snippets.json"), JSON.stringify(manifest, null, 2) + "\n")

const compiled = manifest.filter((entry) => entry.file !== null).length
console.log(`ts blocks (${summary.join(", ")}): ${compiled} written to .readme-snippets/`)
for (const entry of manifest.filter((entry) => entry.file === null)) {
  console.log(`  ${entry.document}:${entry.line} (snippet ${entry.snippet}) not compiled: ${entry.skipped}`)
}
