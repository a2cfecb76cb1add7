/** Allowed snippet and owner names: letters, digits, `.`, `_`, `-` (owners also `:`). */
export const SNIPPET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Owner ids: `tg:<telegram user id>` from the bot, any id matching this from the API. */
export const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** Languages CodeBot labels snippets with. */
export const LANGUAGE_PATTERN = /^[a-z0-9+#.-]{1,32}$/;

/** Largest accepted snippet, in characters. */
export const MAX_CODE_LENGTH = 64 * 1024;

/** A snippet as accepted by the API. */
export interface SnippetInput {
  owner: string;
  name: string;
  language: string;
  code: string;
}

/** A field-level validation problem: which field and what is expected. */
export interface FieldError {
  field: string;
  message: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one owner id. */
export function checkOwner(value: unknown, field = 'owner'): FieldError | undefined {
  if (typeof value !== 'string' || !OWNER_PATTERN.test(value)) {
    return { field, message: 'must be 1-64 characters: letters, digits, . _ : -' };
  }
  return undefined;
}

/** Checks one snippet name. */
export function checkName(value: unknown, field = 'name'): FieldError | undefined {
  if (typeof value !== 'string' || !SNIPPET_NAME_PATTERN.test(value)) {
    return {
      field,
      message: 'must be 1-64 characters: letters, digits, . _ - (not starting with . _ -)',
    };
  }
  return undefined;
}

/** Validates a `POST /api/snippets` body; returns the input or every field error. */
export function validateSnippetInput(
  body: unknown,
): { value: SnippetInput; errors?: undefined } | { value?: undefined; errors: FieldError[] } {
  if (!isRecord(body)) {
    return { errors: [{ field: 'body', message: 'must be a JSON object' }] };
  }
  const errors: FieldError[] = [];
  const owner = checkOwner(body.owner);
  if (owner) errors.push(owner);
  const name = checkName(body.name);
  if (name) errors.push(name);
  if (typeof body.language !== 'string' || !LANGUAGE_PATTERN.test(body.language)) {
    errors.push({ field: 'language', message: 'must be 1-32 characters: a-z 0-9 + # . -' });
  }
  if (typeof body.code !== 'string' || body.code.length === 0) {
    errors.push({ field: 'code', message: 'must be a non-empty string' });
  } else if (body.code.length > MAX_CODE_LENGTH) {
    errors.push({ field: 'code', message: `must be at most ${MAX_CODE_LENGTH} characters` });
  }
  if (errors.length > 0) return { errors };
  return {
    value: {
      owner: body.owner as string,
      name: body.name as string,
      language: body.language as string,
      code: body.code as string,
    },
  };
}

/** Validates a `POST /api/snippets/import` body. */
export function validateImportInput(
  body: unknown,
):
  | { value: { owner: string; gistId: string }; errors?: undefined }
  | { value?: undefined; errors: FieldError[] } {
  if (!isRecord(body)) return { errors: [{ field: 'body', message: 'must be a JSON object' }] };
  const errors: FieldError[] = [];
  const owner = checkOwner(body.owner);
  if (owner) errors.push(owner);
  const gistId = typeof body.gistId === 'string' ? parseGistId(body.gistId) : undefined;
  if (gistId === undefined) {
    errors.push({ field: 'gistId', message: 'must be a gist id (hex) or a gist URL' });
  }
  if (errors.length > 0 || gistId === undefined) return { errors };
  return { value: { owner: body.owner as string, gistId } };
}

/** Accepts a bare gist id or a `https://gist.github.com/<user>/<id>` URL; returns the id. */
export function parseGistId(input: string): string | undefined {
  const trimmed = input.trim();
  if (/^[A-Za-z0-9]{1,64}$/.test(trimmed)) return trimmed;
  try {
    const url = new URL(trimmed);
    const last = url.pathname.split('/').filter(Boolean).pop();
    if (last && /^[A-Za-z0-9]{1,64}$/.test(last)) return last;
  } catch {
    return undefined;
  }
  return undefined;
}

const EXTENSIONS: Record<string, string> = {
  py: 'python',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  ts: 'typescript',
  tsx: 'typescript',
  jsx: 'javascript',
  go: 'go',
  rs: 'rust',
  rb: 'ruby',
  java: 'java',
  kt: 'kotlin',
  c: 'c',
  h: 'c',
  cpp: 'c++',
  cc: 'c++',
  cs: 'c#',
  sh: 'bash',
  sql: 'sql',
  json: 'json',
  yaml: 'yaml',
  yml: 'yaml',
  md: 'markdown',
  html: 'html',
  css: 'css',
};

/** Guesses a language label from a file-like name (`hello.py` → `python`), else `text`. */
export function languageFromName(name: string): string {
  const ext = name.includes('.') ? name.split('.').pop()?.toLowerCase() : undefined;
  return (ext && EXTENSIONS[ext]) ?? 'text';
}

/** Turns a gist file name into a valid snippet name. */
export function snippetNameFromFile(fileName: string): string {
  const cleaned = fileName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[._-]+/, '');
  return (cleaned || 'gist-file').slice(0, 64);
}
