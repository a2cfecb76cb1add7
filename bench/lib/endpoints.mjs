// The applications the load benchmarks compare and the endpoints they call, as autocannon request
// lists. Every app serves the same routes from the same MongoDB, Redis and GitHub stand-in (each
// through its own proxies, so connections are counted per app).
import { mintApiKey } from '../../apps/codebot/dist/auth/api-key.js';
import { BENCH_API_SECRET, commonEnv, startApp } from './apps.mjs';

/** The owner every benchmark snippet belongs to (its API key signs the writes). */
export const OWNER = 'bench';
const API_KEY = mintApiKey(OWNER, BENCH_API_SECRET);
const JSON_WRITE = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };

/**
 * The three apps of the comparison: CodeBot with its production defaults, the anchors app
 * (bench/app/anchors-app.mjs) and CodeBot with pooling defeated — one MongoDB connection, HTTP
 * keep-alive off, a Redis connection per command (`CODEBOT_BENCH_DEFEAT_POOLING`, refused in
 * production, hence the staging preset; its pool sizes are overridden anyway).
 */
export const APPS = {
  'nest-pools': { kind: 'codebot', env: {} },
  anchors: { kind: 'anchors', env: {} },
  'pooling defeated': {
    kind: 'codebot',
    env: {
      APP_ENV: 'staging',
      CODEBOT_BENCH_DEFEAT_POOLING: '1',
      MONGODB_MAX_POOL_SIZE: '1',
      MONGODB_MIN_POOL_SIZE: '0',
      HTTP_KEEPALIVE_TIMEOUT: '0',
    },
  },
};

/** The stack's proxy-set name of an app (no spaces). */
export const stackName = (app) => app.replace(/\W+/g, '-');

/**
 * Starts `app` (a key of {@link APPS}) against the stack's proxy set `proxies` (by default the
 * app's own); `extraEnv` wins over both.
 */
export function startBenchApp(
  stack,
  app,
  extraEnv = {},
  { proxies = stackName(app), ...options } = {},
) {
  const { kind, env } = APPS[app];
  return startApp(kind, commonEnv({ ...stack.envFor(proxies), ...env, ...extraEnv }), {
    label: app,
    ...options,
  });
}

let writeSequence = 0;

/**
 * The endpoints of the load test for one app (`tag` keeps its snippets apart from the other
 * apps' in the shared database), each with the statuses that count as success:
 * - `cache hit`: GET of a snippet already in Redis (one Redis GET);
 * - `cache miss`: GET of a snippet that is not stored (Redis GET, then a MongoDB findOne; 404);
 * - `write`: create then delete a snippet, in turn on every connection (MongoDB insert or delete,
 *   cache invalidation, and the rate limit's Redis script), so the collection stays small;
 * - `upstream`: import a gist from the GitHub stand-in that has nothing to import (one GitHub
 *   round trip; 422);
 * - `ready`: `/health/ready`.
 */
export function endpoints({ tag, emptyGistId }) {
  return {
    'cache hit': { requests: [{ method: 'GET', path: `/api/snippets/${OWNER}/hot-${tag}` }] },
    'cache miss': {
      requests: [{ method: 'GET', path: `/api/snippets/${OWNER}/absent-${tag}` }],
      okStatuses: [404],
    },
    write: {
      requests: [
        {
          method: 'POST',
          path: '/api/snippets',
          headers: JSON_WRITE,
          setupRequest: (request, context) => {
            context.name = `w-${tag}-${++writeSequence}`;
            return { ...request, body: snippetBody(context.name) };
          },
        },
        {
          method: 'DELETE',
          headers: JSON_WRITE,
          setupRequest: (request, context) => ({
            ...request,
            path: `/api/snippets/${OWNER}/${context.name}`,
          }),
        },
      ],
      okStatuses: [201, 204],
    },
    upstream: {
      requests: [
        {
          method: 'POST',
          path: '/api/snippets/import',
          headers: JSON_WRITE,
          body: JSON.stringify({ owner: OWNER, gistId: emptyGistId }),
        },
      ],
      okStatuses: [422],
    },
    ready: { requests: [{ method: 'GET', path: '/health/ready' }] },
  };
}

function snippetBody(name) {
  return JSON.stringify({ owner: OWNER, name, language: 'python', code: 'print("bench")\n' });
}

/** Stores the cache-hit snippet of `tag` and reads it once, so it sits in Redis. */
export async function seed(url, tag) {
  const name = `hot-${tag}`;
  const created = await fetch(`${url}/api/snippets`, {
    method: 'POST',
    headers: JSON_WRITE,
    body: snippetBody(name),
  });
  if (created.status !== 201 && created.status !== 409) {
    throw new Error(`seeding ${name}: ${created.status} ${await created.text()}`);
  }
  for (let i = 0; i < 2; i++) {
    const read = await fetch(`${url}/api/snippets/${OWNER}/${name}`);
    await read.arrayBuffer();
    if (read.status !== 200) throw new Error(`reading ${name}: ${read.status}`);
  }
}
