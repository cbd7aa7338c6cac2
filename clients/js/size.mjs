// Prints each built file's size, raw and gzipped (level 9, as served), and
// fails over the budget: 10 KB gzipped.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 10 * 1024;
let over = false;
for (const file of ["dist/herald.js", "dist/herald-inbox.js"]) {
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: 9 }).length;
  console.log(`${file}: ${raw.length} bytes, ${gz} bytes gzipped (${(gz / 1024).toFixed(1)} KB; budget ${BUDGET / 1024} KB)`);
  if (gz > BUDGET) over = true;
}
if (over) {
  console.error("over the 10 KB gzipped budget");
  process.exit(1);
}
