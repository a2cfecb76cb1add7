import { Injectable } from '@nestjs/common';

import { GistNotFoundError, GistsClient, GitHubUnavailableError } from '../github/gists.client.js';
import { languageFromName, MAX_CODE_LENGTH, snippetNameFromFile } from './snippet.validation.js';
import { SnippetExistsError } from './snippet-errors.js';
import { SnippetsService, type SnippetView } from './snippets.service.js';

/** Result of importing a gist: what was saved and which names were already taken. */
export type ImportResult =
  | { ok: true; imported: SnippetView[]; skipped: string[] }
  | {
      ok: false;
      reason: 'not_found' | 'upstream' | 'empty';
      message: string;
      /** Why GitHub was unavailable, when the pool refused the call (its circuit is open). */
      cause?: unknown;
    };

/** Imports every file of a gist as a snippet of `owner`. */
@Injectable()
export class SnippetImportService {
  constructor(
    private readonly snippets: SnippetsService,
    private readonly gists: GistsClient,
  ) {}

  /** Fetches the gist and saves its files; names already taken are skipped, not overwritten. */
  async importGist(owner: string, gistId: string): Promise<ImportResult> {
    let files;
    try {
      files = (await this.gists.getGist(gistId)).files;
    } catch (error) {
      if (error instanceof GistNotFoundError) {
        return { ok: false, reason: 'not_found', message: error.message };
      }
      if (error instanceof GitHubUnavailableError) {
        return {
          ok: false,
          reason: 'upstream',
          message: `${error.message}; try again later.`,
          cause: error.cause,
        };
      }
      throw error;
    }
    const usable = files.filter((f) => f.content.length > 0 && f.content.length <= MAX_CODE_LENGTH);
    if (usable.length === 0) {
      return { ok: false, reason: 'empty', message: `Gist ${gistId} has no importable files.` };
    }
    const imported: SnippetView[] = [];
    const skipped: string[] = [];
    for (const file of usable) {
      const name = snippetNameFromFile(file.filename);
      const language = file.language
        ? file.language.toLowerCase()
        : languageFromName(file.filename);
      try {
        imported.push(
          await this.snippets.create(
            {
              owner,
              name,
              language: /^[a-z0-9+#.-]{1,32}$/.test(language) ? language : 'text',
              code: file.content,
            },
            'gist',
          ),
        );
      } catch (error) {
        if (!(error instanceof SnippetExistsError)) throw error;
        skipped.push(name);
      }
    }
    return { ok: true, imported, skipped };
  }
}
