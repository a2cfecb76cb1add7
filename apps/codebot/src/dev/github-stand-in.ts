import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { LocalJsonServer, readJson, sendJson } from './json-server.js';

/** A gist kept by the stand-in. */
export interface StoredGist {
  id: string;
  description: string;
  public: boolean;
  files: Record<string, { content: string }>;
}

/** Options of {@link GitHubStandIn}. */
export interface GitHubStandInOptions {
  /**
   * Token `POST /gists` requires (`Authorization: Bearer <token>`); unset accepts any token.
   * @default undefined
   */
  token?: string;
  /**
   * Delay before every answer, to make requests observable while in flight.
   * @default 0
   */
  latencyMs?: number;
}

/**
 * Local stand-in for GitHub's gist API: `GET /gists/:id`, `POST /gists`, and `GET /` (the API
 * root, used for health checks). Starts with one example gist, id {@link EXAMPLE_GIST_ID}.
 */
export class GitHubStandIn extends LocalJsonServer {
  /** Gists by id. */
  readonly gists = new Map<string, StoredGist>();
  /** Adjustable per test. */
  latencyMs: number;
  private resetsLeft = 0;

  constructor(private readonly options: GitHubStandInOptions = {}) {
    super();
    this.latencyMs = options.latencyMs ?? 0;
    this.gists.set(EXAMPLE_GIST_ID, {
      id: EXAMPLE_GIST_ID,
      description: 'CodeBot example',
      public: true,
      files: {
        'hello.py': { content: 'print("hello from a gist")\n' },
        'fib.js': {
          content:
            'const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));\nconsole.log(fib(10));\n',
        },
      },
    });
  }

  /**
   * Drops the connection of each of the next `count` requests without answering (as a crashed
   * or restarted upstream does), so callers see a connection reset and retry.
   */
  resetNext(count = 1): void {
    this.resetsLeft = count;
  }

  /** Adds a gist and returns its id. */
  addGist(files: Record<string, string>, description = ''): string {
    const id = randomBytes(10).toString('hex');
    this.gists.set(id, {
      id,
      description,
      public: true,
      files: Object.fromEntries(Object.entries(files).map(([k, content]) => [k, { content }])),
    });
    return id;
  }

  private render(gist: StoredGist): unknown {
    return {
      id: gist.id,
      description: gist.description,
      public: gist.public,
      html_url: `${this.url}/gist/${gist.id}`,
      files: Object.fromEntries(
        Object.entries(gist.files).map(([filename, f]) => [
          filename,
          { filename, content: f.content, size: Buffer.byteLength(f.content), language: null },
        ]),
      ),
    };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.resetsLeft > 0) {
      this.resetsLeft -= 1;
      req.socket.destroy();
      return;
    }
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method === 'GET' && url.pathname === '/') {
      return sendJson(res, 200, { gists_url: `${this.url}/gists{/gist_id}` });
    }
    const one = /^\/gists\/([A-Za-z0-9]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const gist = this.gists.get(one[1] ?? '');
      return gist
        ? sendJson(res, 200, this.render(gist))
        : sendJson(res, 404, { message: 'Not Found' });
    }
    if (req.method === 'POST' && url.pathname === '/gists') {
      const auth = req.headers.authorization;
      const expected = this.options.token;
      if (
        !auth?.startsWith('Bearer ') ||
        (expected !== undefined && auth !== `Bearer ${expected}`)
      ) {
        return sendJson(res, 401, { message: 'Requires authentication' });
      }
      const body = (await readJson(req)) as Partial<StoredGist> | undefined;
      const files = body?.files;
      if (!files || typeof files !== 'object' || Object.keys(files).length === 0) {
        return sendJson(res, 422, { message: 'Validation Failed: files are required' });
      }
      const id = randomBytes(10).toString('hex');
      const gist: StoredGist = {
        id,
        description: typeof body.description === 'string' ? body.description : '',
        public: body.public === true,
        files,
      };
      this.gists.set(id, gist);
      return sendJson(res, 201, this.render(gist));
    }
    sendJson(res, 404, { message: 'Not Found' });
  }
}

/** Id of the gist every {@link GitHubStandIn} starts with. */
export const EXAMPLE_GIST_ID = 'aa5a315d61ae9438b18d';
