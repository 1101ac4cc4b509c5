// Bundles the management page into static files lattice-web serves: index.html at the top,
// app.js (one ES module), app.css and the icon under assets/. Run by the CMake target
// lattice_web_page (lattice-web/page.cmake) as
//   node BUILD/lattice-web/page-npm/build.mjs --source lattice-web/page --out DIR
// from a copy beside the node_modules that `npm ci` made in the build directory, so the
// source tree stays clean; `npm run build` in lattice-web/page works too (into dist/).
// Nothing is fetched at run time and the output needs no server-side code.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { out: { type: 'string' }, source: { type: 'string' } },
});
if (!values.out) {
  console.error('usage: node build.mjs --out DIR [--source DIR]');
  process.exit(2);
}
const source = path.resolve(values.source || here);
const out = path.resolve(values.out);
const assets = path.join(out, 'assets');
await mkdir(assets, { recursive: true });

await build({
  absWorkingDir: source,
  entryPoints: { app: 'src/main.js' },
  outdir: assets,
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // Module scripts in current Chromium and Firefox; nothing older is promised.
  target: ['chrome120', 'firefox120'],
  // The packages sit beside this script, not beside the sources.
  nodePaths: [path.join(here, 'node_modules')],
  logLevel: 'warning',
});
await copyFile(path.join(source, 'index.html'), path.join(out, 'index.html'));
await copyFile(path.join(source, 'favicon.svg'), path.join(assets, 'favicon.svg'));
