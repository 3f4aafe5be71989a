// Bundles web/ into dist/ (scripts/build-dashboard runs it after `npm ci`): app.js (the
// modules and the parts of ECharts they import, minified), app.css, index.html, and
// licenses.txt with the licence of every npm package that went into app.js.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
mkdirSync(dist, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'web', 'main.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outfile: join(dist, 'app.js'),
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const name of ['index.html', 'app.css']) {
  copyFileSync(join(here, 'web', name), join(dist, name));
}

// Every package folder under node_modules that a bundled input came from.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.add(m[1]);
}
let text = 'Libraries bundled into the tikker dashboard (dashboard/dist/app.js), with their licences.\n';
for (const name of [...packages].sort()) {
  const folder = join(here, 'node_modules', name);
  const meta = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
  text += `\n${'='.repeat(78)}\n${name} ${meta.version} (${meta.license})\n${'='.repeat(78)}\n`;
  let found = false;
  for (const file of ['LICENSE', 'LICENSE.txt', 'LICENSE.md', 'NOTICE', 'licenses/LICENSE-d3']) {
    const path = join(folder, file);
    if (existsSync(path)) {
      text += `\n--- ${file} ---\n${readFileSync(path, 'utf8')}\n`;
      found = true;
    }
  }
  if (!found) throw new Error(`no licence file in ${folder}: the bundle cannot be shipped without it`);
}
writeFileSync(join(dist, 'licenses.txt'), text);
console.log(`dashboard built: ${Object.keys(result.metafile.outputs).length} bundle, packages: ${[...packages].sort().join(', ')}`);
