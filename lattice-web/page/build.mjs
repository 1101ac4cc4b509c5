// Bundles the management page into static files lattice-web serves: index.html at the top,
// app.js (one ES module), app.css and the icon under assets/. Run by the CMake target
// lattice_web_page (lattice-web/page.cmake):
//   node build.mjs --out DIR [--node-modules DIR]
// --node-modules names where `npm ci` put the packages (the build directory, so the source
// tree stays clean). Nothing here is fetched at run time; the output needs no server-side code.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { out: { type: 'string' }, 'node-modules': { type: 'string' } },
});
if (!values.out) {
  console.error('usage: node build.mjs --out DIR [--node-modules DIR]');
  process.exit(2);
}
const out = path.resolve(values.out);
const assets = path.join(out, 'assets');
await mkdir(assets, { recursive: true });

await build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  outdir: assets,
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // Module scripts in current Chromium and Firefox; nothing older is promised.
  target: ['chrome120', 'firefox120'],
  nodePaths: values['node-modules'] ? [path.resolve(values['node-modules'])] : [],
  logLevel: 'warning',
});
await copyFile(path.join(here, 'index.html'), path.join(out, 'index.html'));
await copyFile(path.join(here, 'favicon.svg'), path.join(assets, 'favicon.svg'));
