// Compresses the browser bundle once, at build time (`make build` runs it
// after `cargo leptos build --release`): beside each .wasm, .js and .css in
// the site's pkg directory, a brotli (.br, quality 11, the largest window)
// and a gzip (.gz, level 9) copy, which the server sends as they are to a
// browser that accepts them (src/server/http/assets.rs). Node's own zlib:
// nothing to install. A copy that would not be smaller is not written.
//
//   node scripts/precompress.mjs [PKG_DIR]
//
// PKG_DIR defaults to target/site/pkg, where cargo-leptos writes it
// (Cargo.toml: site-root, site-pkg-dir; relative to the project, whatever
// CARGO_TARGET_DIR says). Prints each file's three sizes.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.argv[2] || path.join("target", "site", "pkg");
const KINDS = { ".wasm": constants.BROTLI_MODE_GENERIC, ".js": constants.BROTLI_MODE_TEXT, ".css": constants.BROTLI_MODE_TEXT };

function* files(d) {
  for (const entry of readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else if (entry.isFile() && path.extname(p) in KINDS) yield p;
  }
}

function writeIfSmaller(file, body, original) {
  // A stale copy from an earlier run would be served for the new file.
  rmSync(file, { force: true });
  if (body.length < original.length) writeFileSync(file, body);
  return body.length < original.length ? body.length : null;
}

let count = 0;
const kb = (n) => (n === null ? "-" : `${(n / 1024).toFixed(1)} KB`);
for (const file of files(dir)) {
  const raw = readFileSync(file);
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_MODE]: KINDS[path.extname(file)],
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION, memLevel: 9 });
  const brSize = writeIfSmaller(`${file}.br`, br, raw);
  const gzSize = writeIfSmaller(`${file}.gz`, gz, raw);
  console.log(
    `[precompress] ${path.relative(dir, file)}: ${kb(raw.length)}, br ${kb(brSize)}, gzip ${kb(gzSize)}`,
  );
  count++;
}
if (count === 0) {
  console.error(`[precompress] error: no .wasm, .js or .css in ${dir} (run cargo leptos build --release first)`);
  process.exit(1);
}
