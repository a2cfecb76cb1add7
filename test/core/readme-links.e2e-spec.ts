// Every published library has a README, and its links work on npm, where the repository's
// relative paths do not resolve: each link is absolute or an anchor in the same page.
import { existsSync, readFileSync } from 'node:fs';

const LIBS = ['core', 'mongo', 'redis', 'http', 'testing'];

describe.each(LIBS)('libs/%s/README.md', (lib) => {
  const url = new URL(`../../libs/${lib}/README.md`, import.meta.url);

  it('exists and is listed in the package files', () => {
    expect(existsSync(url)).toBe(true);
    const pkg = JSON.parse(
      readFileSync(new URL(`../../libs/${lib}/package.json`, import.meta.url), 'utf8'),
    ) as { files?: string[] };
    expect(pkg.files).toContain('README.md');
  });

  it('links only to absolute URLs or anchors', () => {
    const text = existsSync(url) ? readFileSync(url, 'utf8') : '';
    const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
    const relative = targets.filter((t) => !/^(https?:\/\/|#|mailto:)/.test(t));
    expect(relative).toEqual([]);
  });
});
