/** A snippet with this owner and name already exists. */
export class SnippetExistsError extends Error {
  override readonly name = 'SnippetExistsError';
  constructor(
    readonly owner: string,
    readonly snippetName: string,
  ) {
    super(
      `Snippet "${snippetName}" already exists for ${owner}; delete it first or pick another name.`,
    );
  }
}

/** No snippet with this owner and name. */
export class SnippetNotFoundError extends Error {
  override readonly name = 'SnippetNotFoundError';
  constructor(
    readonly owner: string,
    readonly snippetName: string,
  ) {
    super(`Snippet "${snippetName}" not found for ${owner}.`);
  }
}
