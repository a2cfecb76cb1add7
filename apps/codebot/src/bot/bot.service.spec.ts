import type { AppConfig } from '../config/app-config.js';
import type { GistsClient } from '../github/gists.client.js';
import { GistNotFoundError } from '../github/gists.client.js';
import type { RedisCommands } from '../redis/redis-commands.js';
import type { SnippetInput } from '../snippets/snippet.validation.js';
import { SnippetExistsError } from '../snippets/snippet-errors.js';
import { SnippetImportService } from '../snippets/snippet-import.service.js';
import type { SnippetsService, SnippetView } from '../snippets/snippets.service.js';
import type { TelegramMessage } from '../telegram/telegram-update.js';
import { BotService } from './bot.service.js';

/** In-memory stand-in of the snippet store with the same contract (duplicates refused). */
class MemorySnippets {
  readonly items = new Map<string, SnippetView>();
  async create(input: SnippetInput, source: SnippetView['source']): Promise<SnippetView> {
    const key = `${input.owner}/${input.name}`;
    if (this.items.has(key)) throw new SnippetExistsError(input.owner, input.name);
    const now = new Date().toISOString();
    const view = { ...input, source, createdAt: now, updatedAt: now };
    this.items.set(key, view);
    return Promise.resolve(view);
  }
  async get(owner: string, name: string) {
    return Promise.resolve({ snippet: this.items.get(`${owner}/${name}`), cache: 'miss' as const });
  }
  async list(owner: string) {
    return Promise.resolve(
      [...this.items.values()]
        .filter((s) => s.owner === owner)
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
  }
  async delete(owner: string, name: string) {
    return Promise.resolve(this.items.delete(`${owner}/${name}`));
  }
}

/** Counts like the Redis script: one counter per key, fixed window. */
class CountingRedis {
  readonly counts = new Map<string, number>();
  async eval(_script: string, _n: number, key: string, windowMs: number) {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return Promise.resolve([n, windowMs]);
  }
}

const config = { rateLimitMax: 10, rateLimitWindowMs: 60_000 } as AppConfig;

function setup() {
  const snippets = new MemorySnippets();
  const shared: Array<{ name: string; content: string }> = [];
  const gists = {
    getGist: async (id: string) => {
      if (id !== 'abc123') throw new GistNotFoundError(id);
      return Promise.resolve({
        id,
        files: [{ filename: 'x.py', content: 'print(1)', language: 'Python' }],
      });
    },
    createGist: async (_d: string, name: string, content: string) => {
      shared.push({ name, content });
      return Promise.resolve({ id: 'g1', url: 'https://gist.example/g1' });
    },
  } as unknown as GistsClient;
  const store = snippets as unknown as SnippetsService;
  const bot = new BotService(
    store,
    new SnippetImportService(store, gists),
    gists,
    new CountingRedis() as unknown as RedisCommands,
    config,
  );
  let id = 1;
  const say = (text: string, replyText?: string) => {
    const chat = { id: 1, type: 'private' };
    const message: TelegramMessage = {
      message_id: id++,
      from: { id: 1 },
      chat,
      text,
      ...(replyText ? { reply_to_message: { message_id: 99, chat, text: replyText } } : {}),
    };
    return bot.reply(message);
  };
  return { say, snippets, shared };
}

describe('BotService', () => {
  it('saves from the message or the replied-to message and refuses duplicates', async () => {
    const { say, snippets } = setup();
    expect(await say('/save a.py print(1)')).toBe('Saved "a.py" (python, 1 line).');
    expect(await say('/save b.js', 'let x = 1;\nx++;')).toBe('Saved "b.js" (javascript, 2 lines).');
    expect(await say('/save a.py other')).toContain('already exists');
    expect(await say('/save c.txt')).toContain('Nothing to save');
    expect(await say('/save ../etc')).toContain('not a valid name');
    expect(snippets.items.get('tg:1/b.js')?.code).toBe('let x = 1;\nx++;');
  });

  it('imports, shares and deletes', async () => {
    const { say, shared } = setup();
    expect(await say('/import https://gist.github.com/u/abc123')).toContain('• x.py (python)');
    expect(await say('/import abc123')).toContain('Skipped (name taken): x.py');
    expect(await say('/import 999')).toContain('was not found');
    expect(await say('/share x.py')).toBe('Shared "x.py": https://gist.example/g1');
    expect(shared).toEqual([{ name: 'x.py', content: 'print(1)' }]);
    expect(await say('/delete x.py')).toBe('Deleted "x.py".');
    expect(await say('/get x.py')).toContain('No snippet named');
  });

  it('rate-limits commands per user but never /start or /help', async () => {
    const { say } = setup();
    for (let i = 0; i < 10; i++) expect(await say('/list')).toContain('No snippets yet');
    expect(await say('/list')).toMatch(/^Too many requests; try again in 60 s\.$/);
    expect(await say('/help')).toContain('Commands:');
  });
});
