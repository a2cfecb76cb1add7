import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

import type { AxiosResponse } from 'axios';
import type { Dispatcher } from 'undici';

/**
 * A response of {@link HttpPoolRequester}, whatever its status (it never throws for a 4xx or a
 * 5xx; the retry rules still apply to 429/502/503/504 before it is handed out). The body is a
 * Node `Readable`: read it once, with {@link json}, {@link text}, {@link arrayBuffer} or as a
 * stream, or {@link dump} it. Until the body is read to the end or destroyed, the request keeps
 * its socket and its slot of the client's `poolLimit`.
 */
export interface HttpPoolResponse {
  /** Status code of the final response (after redirects). */
  readonly statusCode: number;
  /** Response headers, lower-case names (repeated headers as arrays, as Node gives them). */
  readonly headers: IncomingHttpHeaders;
  /**
   * The body as a Node `Readable`. On the undici transport this is undici's own body stream
   * (`BodyReadable`), which also offers `body.json()` / `body.text()`.
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

/** An undici `request()` response as an {@link HttpPoolResponse}; the body is undici's. */
export class UndiciPoolResponse implements HttpPoolResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Dispatcher.ResponseData['body'];

  /**
   * @param data undici's response
   * @param origin the origin the request was sent to (retry metric labels)
   */
  constructor(
    data: Dispatcher.ResponseData,
    readonly origin: URL,
  ) {
    this.statusCode = data.statusCode;
    this.headers = data.headers;
    this.body = data.body;
  }

  json<T = unknown>(): Promise<T> {
    return this.body.json() as Promise<T>;
  }

  text(): Promise<string> {
    return this.body.text();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.body.arrayBuffer();
  }

  dump(): Promise<void> {
    return this.body.dump();
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
