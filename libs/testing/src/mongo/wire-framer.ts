import { WireProtocolError } from './wire-protocol.js';

const HEADER_SIZE = 16;

/**
 * Splits a byte stream into complete messages in linear time: chunks are kept as they arrive
 * and copied once, when a message is complete (a message inside one chunk is not copied at
 * all). Re-concatenating the buffer on every chunk made a 16 MiB insert cost O(n²).
 */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxMessageSize largest accepted message; bigger ones raise {@link WireProtocolError} */
  constructor(private readonly maxMessageSize: number) {}

  /** Bytes received that do not yet form a whole message. */
  get pending(): number {
    return this.buffered;
  }

  /** Appends `chunk` and returns the messages it completed. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: Buffer[] = [];
    while (this.buffered >= 4) {
      const length = this.peekLength();
      if (length < HEADER_SIZE || length > this.maxMessageSize) {
        throw new WireProtocolError(`invalid message length ${length}`);
      }
      if (this.buffered < length) break;
      out.push(this.take(length));
    }
    return out;
  }

  /** The int32 length prefix, which may straddle chunks. */
  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readInt32LE(0);
    const head = Buffer.alloc(4);
    let filled = 0;
    for (const chunk of this.chunks) {
      filled += chunk.copy(head, filled, 0, Math.min(chunk.length, 4 - filled));
      if (filled === 4) break;
    }
    return head.readInt32LE(0);
  }

  /** Removes and returns the first `length` bytes, copying only when they span chunks. */
  private take(length: number): Buffer {
    this.buffered -= length;
    const first = this.chunks[0] as Buffer;
    if (first.length >= length) {
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const parts: Buffer[] = [];
    let needed = length;
    while (needed > 0) {
      const chunk = this.chunks[0] as Buffer;
      if (chunk.length <= needed) {
        parts.push(chunk);
        this.chunks.shift();
        needed -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, needed));
        this.chunks[0] = chunk.subarray(needed);
        needed = 0;
      }
    }
    return Buffer.concat(parts, length);
  }
}
