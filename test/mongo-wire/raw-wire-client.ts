// A raw-socket MongoDB wire client for the suites that check framing byte by byte: message
// builders (OP_MSG with sequences, flags and checksum, OP_QUERY) and a reader of whole replies.
import { connect, type Socket } from 'node:net';
import { inflateSync } from 'node:zlib';

import type { Document } from 'bson';
import { deserialize, serialize } from 'bson';

export const OP_REPLY = 1;
export const OP_INSERT = 2002;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

let nextId = 100;

/** A fresh requestId for a hand-built message. */
export function newRequestId(): number {
  return nextId++;
}

export function header(length: number, opCode: number, requestId: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

export function frame(opCode: number, body: Buffer, requestId = nextId++): Buffer {
  return Buffer.concat([header(16 + body.length, opCode, requestId), body]);
}

/** CRC-32C, bit by bit (independent of the server's table-driven one). */
export function crc32c(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** Writes the CRC-32C of a framed OP_MSG into its last 4 bytes (`valid: false` spoils it). */
export function sealChecksum(message: Buffer, valid = true): Buffer {
  const crc = crc32c(message.subarray(0, message.length - 4));
  message.writeUInt32LE((valid ? crc : crc ^ 1) >>> 0, message.length - 4);
  return message;
}

/** OP_MSG body: flags, a kind-0 body and optional kind-1 sequences, optional checksum bytes. */
export function opMsgBody(
  cmd: Document,
  options: {
    flags?: number;
    sequences?: Record<string, Document[]>;
    checksum?: boolean | 'wrong';
  } = {},
): Buffer {
  const flags = (options.flags ?? 0) | (options.checksum ? 1 : 0);
  const parts: Buffer[] = [Buffer.alloc(4), Buffer.from([0]), Buffer.from(serialize(cmd))];
  parts[0]?.writeUInt32LE(flags >>> 0, 0);
  for (const [identifier, docs] of Object.entries(options.sequences ?? {})) {
    const payload = Buffer.concat([
      Buffer.from(`${identifier}\0`),
      ...docs.map((d) => Buffer.from(serialize(d))),
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + payload.length, 0);
    parts.push(Buffer.from([1]), size, payload);
  }
  // Room for the checksum; sealChecksum fills it in once the header is known.
  if (options.checksum) parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

export function opQueryBody(ns: string, cmd: Document): Buffer {
  const flags = Buffer.alloc(4);
  const skipReturn = Buffer.alloc(8);
  skipReturn.writeInt32LE(-1, 4);
  return Buffer.concat([flags, Buffer.from(`${ns}\0`), skipReturn, Buffer.from(serialize(cmd))]);
}

export interface ZlibStats {
  compressor: { bytesIn: unknown; bytesOut: unknown };
  decompressor: { bytesIn: unknown; bytesOut: unknown };
}

export interface Reply {
  opCode: number;
  responseTo: number;
  flags: number;
  doc: Document;
  /** Set when the reply came wrapped in OP_COMPRESSED. */
  compressorId?: number;
}

function parseReply(message: Buffer): Reply {
  const responseTo = message.readInt32LE(8);
  let opCode = message.readInt32LE(12);
  let body = message.subarray(16);
  let compressorId: number | undefined;
  if (opCode === OP_COMPRESSED) {
    opCode = body.readInt32LE(0);
    compressorId = body.readUInt8(8);
    body = compressorId === 2 ? inflateSync(body.subarray(9)) : body.subarray(9);
  }
  // OP_REPLY: responseFlags, cursorID, startingFrom, numberReturned; OP_MSG: flagBits, kind 0.
  const docAt = opCode === OP_REPLY ? 20 : 5;
  return {
    opCode,
    responseTo,
    flags: body.readUInt32LE(0),
    doc: deserialize(body.subarray(docAt)),
    compressorId,
  };
}

/** A tiny client that reads whole messages off a raw socket. */
export class RawClient {
  private buffer = Buffer.alloc(0);
  private waiting: Array<(m: Buffer) => void> = [];
  private readonly queue: Buffer[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 4 && this.buffer.length >= this.buffer.readInt32LE(0)) {
        const length = this.buffer.readInt32LE(0);
        const message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        const waiter = this.waiting.shift();
        if (waiter) waiter(message);
        else this.queue.push(message);
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  next(timeoutMs = 1000): Promise<Reply> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(parseReply(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply')), timeoutMs);
      this.waiting.push((m) => {
        clearTimeout(timer);
        resolve(parseReply(m));
      });
    });
  }

  async command(cmd: Document, options?: Parameters<typeof opMsgBody>[1]): Promise<Reply> {
    const id = nextId++;
    const message = frame(OP_MSG, opMsgBody(cmd, options), id);
    this.send(options?.checksum ? sealChecksum(message, options.checksum === true) : message);
    const reply = await this.next();
    expect(reply.responseTo).toBe(id);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}
