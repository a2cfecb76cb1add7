import { redact } from '@nest-pools/core';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Model } from 'mongoose';

import { CODEBOT_REDIS, SNIPPET_MODEL_TOKEN } from '../codebot.tokens.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { REDIS_KEYS, type RedisCommands } from '../redis/redis-commands.js';
import { isDuplicateKeyError, type Snippet, type SnippetSource } from './snippet.schema.js';
import type { SnippetInput } from './snippet.validation.js';
import { SnippetExistsError } from './snippet-errors.js';

/** A snippet as returned by the API and the bot. */
export interface SnippetView {
  owner: string;
  name: string;
  language: string;
  code: string;
  source: SnippetSource;
  createdAt: string;
  updatedAt: string;
}

/** Whether a read came from the cache. */
export type CacheOutcome = 'hit' | 'miss';

function toView(doc: Snippet): SnippetView {
  return {
    owner: doc.owner,
    name: doc.name,
    language: doc.language,
    code: doc.code,
    source: doc.source,
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
  };
}

/**
 * Snippet storage: Mongo is the source of truth, Redis a read-through cache of single snippets
 * that every write and delete invalidates.
 */
@Injectable()
export class SnippetsService {
  private readonly logger = new Logger(SnippetsService.name);

  constructor(
    @Inject(SNIPPET_MODEL_TOKEN) private readonly model: Model<Snippet>,
    @Inject(CODEBOT_REDIS) private readonly redis: RedisCommands,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Stores a new snippet; throws {@link SnippetExistsError} when `(owner, name)` is taken. */
  async create(input: SnippetInput, source: SnippetSource): Promise<SnippetView> {
    try {
      const doc = await this.model.create({ ...input, source });
      return toView(doc.toObject());
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new SnippetExistsError(input.owner, input.name);
      throw error;
    } finally {
      // Also after a failed insert: a stale cached copy must never outlive a write attempt.
      await this.invalidate(input.owner, input.name);
    }
  }

  /** Reads one snippet through the cache. */
  async get(
    owner: string,
    name: string,
  ): Promise<{ snippet: SnippetView | undefined; cache: CacheOutcome }> {
    const key = REDIS_KEYS.snippet(owner, name);
    const cached = await this.cacheGet(key);
    if (cached !== undefined) return { snippet: cached, cache: 'hit' };
    const doc = await this.model.findOne({ owner, name }).lean<Snippet>().exec();
    if (!doc) return { snippet: undefined, cache: 'miss' };
    const view = toView(doc);
    await this.cacheSet(key, view);
    return { snippet: view, cache: 'miss' };
  }

  /** Lists an owner's snippets by name. */
  async list(owner: string, limit: number): Promise<SnippetView[]> {
    const docs = await this.model
      .find({ owner })
      .sort({ name: 1 })
      .limit(limit)
      .lean<Snippet[]>()
      .exec();
    return docs.map(toView);
  }

  /** Deletes one snippet; false when there was none. */
  async delete(owner: string, name: string): Promise<boolean> {
    try {
      const result = await this.model.deleteOne({ owner, name }).exec();
      return result.deletedCount > 0;
    } finally {
      await this.invalidate(owner, name);
    }
  }

  private async invalidate(owner: string, name: string): Promise<void> {
    try {
      await this.redis.del(REDIS_KEYS.snippet(owner, name));
    } catch (error) {
      // A failed invalidation could serve a stale snippet for up to one TTL; say so loudly.
      this.logger.error(`Cache invalidation of ${owner}/${name} failed: ${redact(String(error))}`);
    }
  }

  private async cacheGet(key: string): Promise<SnippetView | undefined> {
    try {
      const raw = await this.redis.get(key);
      return raw === null ? undefined : (JSON.parse(raw) as SnippetView);
    } catch (error) {
      this.logger.warn(`Cache read failed, reading Mongo: ${redact(String(error))}`);
      return undefined;
    }
  }

  private async cacheSet(key: string, view: SnippetView): Promise<void> {
    try {
      await this.redis.set(key, JSON.stringify(view), 'PX', this.config.snippetCacheTtlMs);
    } catch (error) {
      this.logger.warn(`Cache write failed: ${redact(String(error))}`);
    }
  }
}
