// Builds dist/herald.js (the headless client) and dist/herald-inbox.js (the
// web component, with the client inside): ES modules, minified by esbuild.
import { build } from "esbuild";

const common = { bundle: true, format: "esm", minify: true, target: "es2022", legalComments: "none", logLevel: "warning" };
await build({ ...common, entryPoints: ["src/index.js"], outfile: "dist/herald.js" });
await build({ ...common, entryPoints: ["src/element.js"], outfile: "dist/herald-inbox.js" });
