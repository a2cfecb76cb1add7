import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

import type { AxiosResponse } from 'axios';

import type { NativeBody } from './native-body.js';

/**
 * A response of {@link HttpPoolRequester}, whatever its status (it never throws for a 4xx or a
 * 5xx; the retry rules still apply to 429/502/503/504 before it is handed out). Read the body
 * once, with {@link json}, {@link text}, {@link arrayBuffer} or as the {@link body} stream, or
 * {@link dump} it. Until the body has arrived in full (or is dumped or destroyed), the request
 * keeps its socket and its slot of the client's `poolLimit`.
 */
export interface HttpPoolResponse {
  /** Status code of the final response (after redirects). */
  readonly statusCode: number;
  /** Response headers, lower-case names (repeated headers as arrays, as Node gives them). */
  readonly headers: IncomingHttpHeaders;
  /**
   * The body as a Node `Readable`, with backpressure onto the socket. On the undici transport it
   * is made on first use, what has arrived so far first; after `json()` / `text()` /
   * `arrayBuffer()` / `dump()` it throws a `TypeError` (a body is read once).
   */
  readonly body: Readable;
  /** Reads the whole body and parses it as JSON. */
  json<T = unknown>(): Promise<T>;
  /** Reads the whole body as UTF-8 text. */
  text(): Promise<string>;
  /** Reads the whole body into an `ArrayBuffer`. */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** Discards the body, keeping the connection for reuse when it is short enough. */
  dump(): Promise<void>;
}

/** A response of the undici route: the status and headers, and the body its handler feeds. */
export class UndiciPoolResponse implements HttpPoolResponse {
  /**
   * @param statusCode status of the final response
   * @param headers its headers, as undici parsed them
   * @param origin the origin the request was sent to (retry metric labels)
   * @param content the body, fed by the dispatch handler
   */
  constructor(
    readonly statusCode: number,
    readonly headers: IncomingHttpHeaders,
    readonly origin: URL,
    private readonly content: NativeBody,
  ) {}

  /** Calls `fn` once the body has arrived in full or failed. */
  whenFinished(fn: () => void): void {
    this.content.whenFinished(fn);
  }

  get body(): Readable {
    return this.content.stream();
  }

  json<T = unknown>(): Promise<T> {
    return this.content.json<T>();
  }

  text(): Promise<string> {
    return this.content.text();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.content.arrayBuffer();
  }

  dump(): Promise<void> {
    return this.content.dump();
  }
}

/**
 * A streamed axios response (the `http` transport) as an {@link HttpPoolResponse}: the same
 * readers over the Node stream axios hands out.
 */
export class StreamPoolResponse implements HttpPoolResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;

  constructor(response: AxiosResponse<Readable>) {
    this.statusCode = response.status;
    this.headers = { ...(response.headers as IncomingHttpHeaders) };
    this.body = response.data;
  }

  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async dump(): Promise<void> {
    for await (const chunk of this.body) void chunk;
  }

  private async bytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }
}
