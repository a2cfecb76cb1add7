import { jest } from '@jest/globals';

import { MessageFramer } from './wire-framer.js';
import { WireProtocolError } from './wire-protocol.js';

/** A message of `length` bytes: the length prefix, then a byte pattern. */
function message(length: number, fill: number): Buffer {
  const bytes = Buffer.alloc(length, fill);
  bytes.writeInt32LE(length, 0);
  return bytes;
}

/** `bytes` cut into pieces of `size`. */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe('MessageFramer', () => {
  afterEach(() => jest.restoreAllMocks());

  it('copies a message arriving in many chunks once, not once per chunk', () => {
    const concat = jest.spyOn(Buffer, 'concat');
    const framer = new MessageFramer(48_000_000);
    const big = message(1024 * 1024, 7);
    const chunks = pieces(big, 1000);
    const out = chunks.flatMap((chunk) => framer.push(chunk));
    expect(chunks.length).toBeGreaterThan(1000);
    expect(out).toHaveLength(1);
    expect(out[0]?.equals(big)).toBe(true);
    expect(concat).toHaveBeenCalledTimes(1);
    expect(framer.pending).toBe(0);
  });

  it('splits several messages in one chunk without copying and handles a split length prefix', () => {
    const concat = jest.spyOn(Buffer, 'concat');
    const framer = new MessageFramer(1024);
    const [a, b, c] = [message(16, 1), message(40, 2), message(20, 3)];
    const stream = Buffer.concat([a, b, c]);
    concat.mockClear();
    expect(framer.push(stream.subarray(0, 58))).toEqual([a, b]);
    expect(concat).not.toHaveBeenCalled();
    // The third message's 4-byte length prefix straddles three chunks.
    expect(framer.push(stream.subarray(58, 59))).toEqual([]);
    expect(framer.push(stream.subarray(59, 60))).toEqual([]);
    expect(framer.push(stream.subarray(60))).toEqual([c]);
    expect(framer.pending).toBe(0);
  });

  it('refuses lengths below the header size or above the maximum', () => {
    expect(() => new MessageFramer(1024).push(message(8, 0))).toThrow(WireProtocolError);
    const huge = Buffer.alloc(4);
    huge.writeInt32LE(2048, 0);
    expect(() => new MessageFramer(1024).push(huge)).toThrow(WireProtocolError);
  });
});
