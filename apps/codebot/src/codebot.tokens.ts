/** Redis client for ordinary commands (cache, rate limit, update de-duplication). */
export const CODEBOT_REDIS = 'Codebot(redis)';

/** Mongoose model of snippets. */
export const SNIPPET_MODEL_TOKEN = 'Codebot(snippetModel)';

/** Named HTTP pool of the Telegram Bot API client. */
export const TELEGRAM_POOL = 'telegram';

/** Named HTTP pool of the GitHub API client. */
export const GITHUB_POOL = 'github';
