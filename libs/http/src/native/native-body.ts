import { Readable } from 'node:stream';

/** What a native body needs of the request carrying it: flow control and cancellation. */
export interface BodyFlow {
  /** Stops reading from the socket until {@link resume}. */
  pause(): void;
  resume(): void;
  /** Cuts the response (the socket is closed); the body then fails with the attempt's error. */
  abort(reason: Error): void;
}

/** How the body was read; a body is read once. */
type Reader = 'json' | 'text' | 'arrayBuffer' | 'dump' | 'body';

/** Bytes kept for a caller who has not started reading; past it, the transfer pauses. */
export const UNREAD_BODY_LIMIT = 64 * 1024;

/**
 * Bytes `dump()` reads to keep the connection; a longer body is cut, as undici's `dump()` does,
 * rather than downloaded only to be dropped.
 */
export const DUMP_LIMIT = 128 * 1024;

const OPEN = 0;
const ENDED = 1;
const FAILED = 2;

/** Thrown when a body is read a second time. */
function bodyUsed(reader: Reader): TypeError {
  return new TypeError(`HttpPoolResponse: the body was already read with ${reader}()`);
}

/** UTF-8 text of the body, without a byte order mark (as undici's readers). */
function utf8(chunks: Buffer[], length: number): string {
  if (length === 0) return '';
  const buffer = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
  const bom = length > 2 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf;
  return buffer.toString('utf8', bom ? 3 : 0, length);
}

/** Turns the chunks of a whole body into what a reader returns. */
type Decoder = (chunks: Buffer[], length: number) => unknown;

const decodeJson: Decoder = (chunks, length) => JSON.parse(utf8(chunks, length)) as unknown;

const decodeArrayBuffer: Decoder = (chunks, length) => {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out.buffer;
};

/**
 * The body of one native response, fed by the dispatch handler. Until a reader comes it keeps up
 * to {@link UNREAD_BODY_LIMIT} bytes and then pauses the transfer; `json()` / `text()` /
 * `arrayBuffer()` join the chunks once at the end, with no stream in between; a Node `Readable`
 * is made only when the caller asks for {@link stream}, with backpressure onto the socket.
 */
export class NativeBody {
  private chunks: Buffer[] = [];
  private length = 0;
  private state = OPEN;
  private error: Error | undefined;
  private reader: Reader | undefined;
  private paused = false;
  /** The reader waiting for the end: settled with the decoded body (nothing for `dump()`). */
  private waiter:
    | { resolve: (value: unknown) => void; reject: (error: unknown) => void; decode?: Decoder }
    | undefined;
  private readable: Readable | undefined;
  private onFinished: (() => void) | undefined;

  constructor(private readonly flow: BodyFlow) {}

  /** Calls `fn` once the body has arrived in full or failed (at once if it has). */
  whenFinished(fn: () => void): void {
    if (this.state !== OPEN) fn();
    else this.onFinished = fn;
  }

  // ---- fed by the dispatch handler ----

  push(chunk: Buffer): void {
    if (this.state !== OPEN) return;
    const reader = this.reader;
    if (reader === 'dump') {
      this.length += chunk.length;
      if (this.length > DUMP_LIMIT) this.flow.abort(new Error('dump limit reached'));
      return;
    }
    if (reader === 'body') {
      if (!(this.readable as Readable).push(chunk)) this.pause();
      return;
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (reader === undefined && this.length > UNREAD_BODY_LIMIT) this.pause();
  }

  end(): void {
    if (this.state !== OPEN) return;
    this.state = ENDED;
    this.finished();
    if (this.readable) {
      this.readable.push(null);
    } else if (this.waiter) {
      const { resolve, reject, decode } = this.waiter;
      this.waiter = undefined;
      if (decode === undefined) {
        resolve(undefined);
        return;
      }
      // Decoded here, not in a `then` after the waiter: one promise per read.
      let value: unknown;
      try {
        value = decode(this.chunks, this.length);
      } catch (error) {
        reject(error);
        return;
      }
      resolve(value);
    }
  }

  fail(error: unknown): void {
    if (this.state !== OPEN) return;
    this.state = FAILED;
    this.error = error as Error;
    this.finished();
    this.chunks = [];
    if (this.readable) {
      if (!this.readable.destroyed) this.readable.destroy(error as Error);
    } else if (this.waiter) {
      const { reject, resolve } = this.waiter;
      this.waiter = undefined;
      // dump() only wants the connection settled: a cut body is what it asked for.
      if (this.reader === 'dump') resolve(undefined);
      else reject(error);
    }
  }

  // ---- the caller's readers ----

  json<T>(): Promise<T> {
    return this.read('json', decodeJson) as Promise<T>;
  }

  text(): Promise<string> {
    return this.read('text', utf8) as Promise<string>;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.read('arrayBuffer', decodeArrayBuffer) as Promise<ArrayBuffer>;
  }

  /** Drops the body; keeps the connection when the rest is at most {@link DUMP_LIMIT} bytes. */
  async dump(): Promise<void> {
    if (this.reader === 'dump') return;
    this.take('dump');
    this.chunks = [];
    if (this.state === FAILED) return;
    if (this.length > DUMP_LIMIT) {
      this.flow.abort(new Error('dump limit reached'));
      return;
    }
    this.resume();
    if (this.state === OPEN)
      await new Promise<unknown>((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** The body as a Node `Readable` (made on first use), what has arrived so far first. */
  stream(): Readable {
    if (this.readable) return this.readable;
    this.take('body');
    const readable = new Readable({
      read: () => this.resume(),
      destroy: (error, callback) => {
        // The caller gave up on the body before its end: cut the response, free the socket.
        if (this.state === OPEN) this.flow.abort(error ?? new Error('response body destroyed'));
        callback(error);
      },
    });
    this.readable = readable;
    for (const chunk of this.chunks) readable.push(chunk);
    this.chunks = [];
    if (this.state === ENDED) readable.push(null);
    else if (this.state === FAILED) readable.destroy(this.error);
    return readable;
  }

  /**
   * The whole body through `decode`; a body already in (the usual case for a small one) is
   * decoded at once, without waiting a turn.
   */
  private read(reader: Reader, decode: Decoder): Promise<unknown> {
    try {
      this.take(reader);
      if (this.state === ENDED) return Promise.resolve(decode(this.chunks, this.length));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.state === FAILED)
      return Promise.reject(this.error ?? new Error('response body failed'));
    this.resume();
    return new Promise<unknown>((resolve, reject) => (this.waiter = { resolve, reject, decode }));
  }

  private finished(): void {
    const fn = this.onFinished;
    this.onFinished = undefined;
    fn?.();
  }

  private take(reader: Reader): void {
    if (this.reader !== undefined) throw bodyUsed(this.reader);
    this.reader = reader;
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.flow.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flow.resume();
  }
}
