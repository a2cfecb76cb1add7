import { Inject, Injectable } from '@nestjs/common';
import type { Model } from 'mongoose';

import { SNIPPET_MODEL_TOKEN } from '../codebot.tokens.js';
import type { Snippet } from '../snippets/snippet.schema.js';

/**
 * Latches the first complete start: Mongo and Redis both answered once and the snippet indexes
 * (the unique `(owner, name)` one) exist. Until then `/health/startup` is 503, so Kubernetes
 * sends no traffic that could save a duplicate before the index is there.
 */
@Injectable()
export class StartupState {
  private started = false;
  private indexes: Promise<void> | undefined;

  constructor(@Inject(SNIPPET_MODEL_TOKEN) private readonly snippets: Model<Snippet>) {}

  /** True once startup completed; never goes back. */
  get isStarted(): boolean {
    return this.started;
  }

  /** Marks startup complete. */
  markStarted(): void {
    this.started = true;
  }

  /** Builds the snippet indexes (idempotent); concurrent callers share one attempt. */
  ensureIndexes(): Promise<void> {
    this.indexes ??= this.snippets
      .createIndexes()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.indexes = undefined;
        throw error;
      });
    return this.indexes;
  }
}
