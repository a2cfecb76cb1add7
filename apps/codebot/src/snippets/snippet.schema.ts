import { Schema } from 'mongoose';

/** Model name of stored snippets (collection `snippets`). */
export const SNIPPET_MODEL = 'Snippet';

/** Where a snippet came from. */
export type SnippetSource = 'telegram' | 'api' | 'gist';

/** A stored snippet. */
export interface Snippet {
  owner: string;
  name: string;
  language: string;
  code: string;
  source: SnippetSource;
  createdAt: Date;
  updatedAt: Date;
}

/** The snippet schema; `(owner, name)` is unique, so a duplicate save is refused by the server. */
export const SnippetSchema = new Schema<Snippet>(
  {
    owner: { type: String, required: true },
    name: { type: String, required: true },
    language: { type: String, required: true },
    code: { type: String, required: true },
    source: { type: String, required: true, enum: ['telegram', 'api', 'gist'] },
  },
  { timestamps: true, collection: 'snippets', versionKey: false },
);

SnippetSchema.index({ owner: 1, name: 1 }, { unique: true, name: 'owner_name_unique' });

/** True for MongoDB's duplicate-key error (code 11000), whatever wrapper it arrives in. */
export function isDuplicateKeyError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    if ((current as { code?: unknown }).code === 11000) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
