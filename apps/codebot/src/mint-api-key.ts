import { existsSync } from 'node:fs';

import { mintApiKey } from './auth/api-key.js';
import { APP_ENV_VARIABLES } from './config/app-config.js';
import { OWNER_PATTERN } from './snippets/snippet.validation.js';

/**
 * `npm run -s api-key -- <owner>` (or `node apps/codebot/dist/mint-api-key.js <owner>` in the
 * image): prints the API key of `<owner>`, signed with `API_TOKEN_SECRET` from the environment (or
 * a `.env` in the working directory, as the app reads it). Only the key goes to stdout, so
 * `KEY=$(npm run -s api-key -- alice)` works; the secret is never printed.
 */
function main(argv: string[]): number {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const owner = argv[0];
  if (argv.length !== 1 || owner === undefined || !OWNER_PATTERN.test(owner)) {
    process.stderr.write(
      'Usage: npm run -s api-key -- <owner>   (owner: 1-64 characters, letters, digits, . _ : -; Telegram users are tg:<user id>)\n',
    );
    return 2;
  }
  const raw = process.env.API_TOKEN_SECRET;
  const parsed = APP_ENV_VARIABLES.API_TOKEN_SECRET.schema.safeParse(raw ?? '');
  if (!parsed.success) {
    process.stderr.write(
      `API_TOKEN_SECRET = ${raw === undefined || raw === '' ? '(not set)' : '"***"'}; allowed: ${APP_ENV_VARIABLES.API_TOKEN_SECRET.allowed}. Use the same value as the running CodeBot.\n`,
    );
    return 1;
  }
  process.stdout.write(`${mintApiKey(owner, parsed.data)}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
