import type { Document } from 'bson';
import { find, ProcessingMode } from 'mingo';
import { Aggregator } from 'mingo/aggregator';

import { sortDocuments } from './bson-sort.js';
import { collationCompare } from './bson-values.js';
import { idFirst } from './mongo-wire-args.js';
import type { WireCollection, WireStore } from './mongo-wire-store.js';
import type { QueryViews } from './query-view.js';

/** What a read selects: filter, sort, skip, limit (all typed, as they came off the wire). */
export interface SelectOptions {
  filter?: Document;
  sort?: Document;
  skip?: number;
  limit?: number;
  collation?: Document;
}

/**
 * Reads over stored documents: filters through the query engine on number views, sorts with
 * mongod's BSON order, projects and aggregates. What it returns are the stored, exactly typed
 * documents (or projections of them).
 */
export class DocumentQuery {
  constructor(
    readonly views: QueryViews,
    private readonly store: WireStore,
  ) {}

  /** Stored documents matching `opts`, in sort order (the objects themselves, not copies). */
  select(coll: WireCollection | undefined, opts: SelectOptions): Document[] {
    if (!coll) return [];
    const matches = this.views.compile(opts.filter ?? {}, opts.collation);
    let docs = coll.docs.filter(matches);
    if (opts.sort && Object.keys(opts.sort).length) {
      docs = sortDocuments(docs, opts.sort, collationCompare(opts.collation));
    }
    const skip = opts.skip ?? 0;
    const limit = Math.abs(opts.limit ?? 0);
    if (skip || limit) docs = docs.slice(skip, limit ? skip + limit : undefined);
    return docs;
  }

  /** Applies a projection (inclusion, exclusion, `$slice`…); `_id` stays first. */
  project(docs: Document[], projection: Document | undefined): Document[] {
    if (!projection || !Object.keys(projection).length) return docs;
    const spec = this.views.build(projection) as Document;
    return find(docs, {}, spec, { scriptEnabled: false }).all().map(idFirst);
  }

  /**
   * Runs a pipeline. Stages compute on number views; documents that pass through unchanged
   * (`$match`, `$sort`, `$limit`…) come back as the stored, exactly typed documents.
   */
  aggregate(
    db: string,
    source: Document[],
    pipeline: Document[],
    collation?: Document,
  ): Document[] {
    const typedOf = new Map<object, Document>();
    const input = source.map((doc) => {
      const view = this.views.build(doc) as Document;
      typedOf.set(view, doc);
      return view;
    });
    const options = this.views.options(collation, {
      processingMode: ProcessingMode.CLONE_OFF,
      collectionResolver: (name: string) =>
        (this.store.get(db, name)?.docs ?? []).map((d) => this.views.build(d) as Document),
    });
    // The base Aggregator takes our context whole, so `$match` uses this server's `$type`.
    const stages = this.views.build(pipeline) as Document[];
    const out = new Aggregator(stages, options).run<Document>(input);
    return out.map((doc) => typedOf.get(doc) ?? doc);
  }
}
