import { PoolUnavailableError } from '@nest-pools/core';
import type { HttpService } from '@nestjs/axios';
import { isAxiosError } from 'axios';
import { firstValueFrom } from 'rxjs';

/** One file of a gist. */
export interface GistFile {
  filename: string;
  language?: string | null;
  content: string;
}

/** The part of a gist CodeBot uses. */
export interface Gist {
  id: string;
  html_url?: string;
  files: GistFile[];
}

/** GitHub said the gist does not exist (or is not visible with our token). */
export class GistNotFoundError extends Error {
  override readonly name = 'GistNotFoundError';
  constructor(readonly gistId: string) {
    super(`Gist ${gistId} was not found; check the id or URL.`);
  }
}

/**
 * GitHub could not be reached or answered with an error. `cause` is the pool's
 * `PoolUnavailableError` when the pool's circuit for GitHub is open (nothing was sent).
 */
export class GitHubUnavailableError extends Error {
  override readonly name = 'GitHubUnavailableError';
  constructor(
    message: string,
    readonly status?: number,
    cause?: PoolUnavailableError,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

function describe(error: unknown): {
  status?: number;
  message: string;
  cause?: PoolUnavailableError;
} {
  if (error instanceof PoolUnavailableError) {
    return {
      message: `GitHub unreachable (circuit open, retry after ${error.retryAfterSeconds} s)`,
      cause: error,
    };
  }
  if (isAxiosError(error)) {
    // Never the axios message as is: its config carries headers (the token) and the URL.
    return error.response
      ? { status: error.response.status, message: `GitHub answered ${error.response.status}` }
      : { message: `GitHub unreachable (${error.code ?? 'network error'})` };
  }
  return { message: error instanceof Error ? error.name : 'GitHub request failed' };
}

/** GitHub gists over the `github` HTTP pool (its base URL is `GITHUB_API_URL`). */
export class GistsClient {
  constructor(
    private readonly http: HttpService,
    private readonly token: string | undefined,
  ) {}

  private headers(): Record<string, string> {
    return {
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
    };
  }

  /** `GET /gists/:id`. */
  async getGist(id: string): Promise<Gist> {
    try {
      const res = await firstValueFrom(
        this.http.get<{ id: string; html_url?: string; files?: Record<string, Partial<GistFile>> }>(
          `/gists/${encodeURIComponent(id)}`,
          { headers: this.headers() },
        ),
      );
      const files = Object.entries(res.data.files ?? {}).map(([key, file]) => ({
        filename: file.filename ?? key,
        language: file.language ?? null,
        content: file.content ?? '',
      }));
      return { id: res.data.id, html_url: res.data.html_url, files };
    } catch (error) {
      const { status, message, cause } = describe(error);
      if (status === 404) throw new GistNotFoundError(id);
      throw new GitHubUnavailableError(message, status, cause);
    }
  }

  /** `POST /gists` (needs `GITHUB_TOKEN`); returns the new gist's id and URL. */
  async createGist(
    description: string,
    fileName: string,
    content: string,
  ): Promise<{ id: string; url: string }> {
    if (!this.token) {
      throw new GitHubUnavailableError('GITHUB_TOKEN is not set, so gists cannot be created');
    }
    try {
      const res = await firstValueFrom(
        this.http.post<{ id: string; html_url: string }>(
          '/gists',
          { description, public: false, files: { [fileName]: { content } } },
          { headers: this.headers() },
        ),
      );
      return { id: res.data.id, url: res.data.html_url };
    } catch (error) {
      const { status, message, cause } = describe(error);
      throw new GitHubUnavailableError(message, status, cause);
    }
  }
}
