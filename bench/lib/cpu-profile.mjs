// Reads the V8 CPU profiles an app wrote (`node --cpu-prof`) and lists the functions with the
// most self time, so a missed goal comes with where the CPU went and not only the number.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `file:///…/node_modules/pkg/lib/x.js` → `pkg/lib/x.js`; app and lib files from their folder. */
function shortUrl(url) {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  const project = path.search(/\/(libs|apps|bench)\//);
  return project >= 0 ? path.slice(project + 1) : path.replace(/^node:/, 'node:');
}

/** The package a short URL belongs to: `pkg` or `@scope/pkg`, `libs/x`, `apps/x`, `node:`, native. */
function packageOf(where) {
  if (where.startsWith('(')) return 'V8 / native';
  if (where.startsWith('node:')) return 'node: internals';
  const parts = where.split('/');
  if (parts[0] === 'libs' || parts[0] === 'apps' || parts[0] === 'bench')
    return `${parts[0]}/${parts[1]}`;
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/**
 * Self time per function of one `.cpuprofile`, skipping the first `skipMs` of the profile (the
 * app's start-up). Returns `{ totalMs, top: [{ fn, where, selfMs, percent }], packages: [{ name,
 * selfMs, percent }] }` (packages: self time summed per npm package, project lib or Node itself).
 */
export function topSelfTime(profile, { skipMs = 0, limit = 12 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if ((t - profile.startTime) / 1000 < skipMs) continue;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    const key = `${functionName || '(anonymous)'}\t${shortUrl(url)}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + delta);
    total += delta;
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, us]) => {
      const [fn, where] = key.split('\t');
      return {
        fn,
        where,
        selfMs: Math.round(us / 1000),
        percent: Math.round((1000 * us) / total) / 10,
      };
    });
  const perPackage = new Map();
  for (const [key, us] of self) {
    const name = packageOf(key.split('\t')[1]);
    perPackage.set(name, (perPackage.get(name) ?? 0) + us);
  }
  const packages = [...perPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2 * limit)
    .map(([name, us]) => ({
      name,
      selfMs: Math.round(us / 1000),
      percent: Math.round((1000 * us) / total) / 10,
    }));
  return { totalMs: Math.round(total / 1000), top, packages };
}

/** {@link topSelfTime} of the newest `.cpuprofile` in `dir`. */
export function summarizeProfileDir(dir, options) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const newest = files.at(-1);
  if (!newest) throw new Error(`no .cpuprofile in ${dir}`);
  return topSelfTime(JSON.parse(readFileSync(join(dir, newest), 'utf8')), options);
}
