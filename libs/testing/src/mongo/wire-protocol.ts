import { deflateSync, inflateSync } from 'node:zlib';

import type { Document } from 'bson';
import { deserialize, serialize } from 'bson';

import { EXACT_BSON } from './bson-values.js';
import { crc32c } from './crc32c.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import { MAX_BSON_INTERNAL_SIZE } from './mongo-wire-limits.js';

/** Opcodes of the MongoDB wire protocol that the server recognises. */
export const OpCode = {
  OP_REPLY: 1,
  OP_UPDATE: 2001,
  OP_INSERT: 2002,
  OP_QUERY: 2004,
  OP_GET_MORE: 2005,
  OP_DELETE: 2006,
  OP_KILL_CURSORS: 2007,
  OP_COMPRESSED: 2012,
  OP_MSG: 2013,
} as const;

/** OP_MSG flag bits. */
export const OpMsgFlag = {
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16,
} as const;

/** Bits 0-15 of OP_MSG flags are required: a receiver must refuse ones it does not know. */
const REQUIRED_FLAG_BITS = 0xffff;
const KNOWN_FLAG_BITS = OpMsgFlag.checksumPresent | OpMsgFlag.moreToCome;

/** OP_REPLY responseFlags bit 1: the document is a `{ $err, code }` query failure. */
export const QUERY_FAILURE_FLAG = 1 << 1;

/** Legacy opcodes mongod 6+ no longer serves (removed in 5.1; OP_QUERY stays for the handshake). */
const LEGACY_OPCODES = new Set<number>([
  OpCode.OP_UPDATE,
  OpCode.OP_INSERT,
  OpCode.OP_GET_MORE,
  OpCode.OP_DELETE,
  OpCode.OP_KILL_CURSORS,
]);

/** Compressor ids used in OP_COMPRESSED. */
export const CompressorId = { noop: 0, snappy: 1, zlib: 2, zstd: 3 } as const;

/** Compressors this server can decode and encode (in preference order). */
export const SUPPORTED_COMPRESSORS = ['zlib'] as const;

/** Name of a compressor the server supports. */
export type SupportedCompressor = (typeof SUPPORTED_COMPRESSORS)[number];

const HEADER_SIZE = 16;

/** Fixed 16-byte header of every wire message. */
export interface MessageHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** A decoded OP_MSG request: the body with every document sequence merged in. */
export interface OpMsgRequest {
  kind: 'msg';
  header: MessageHeader;
  flags: number;
  command: Document;
  /** Compressor the request arrived with (the reply uses the same one). */
  compressor?: SupportedCompressor;
}

/** A decoded legacy OP_QUERY request (only used by drivers for the first handshake). */
export interface OpQueryRequest {
  kind: 'query';
  header: MessageHeader;
  flags: number;
  fullCollectionName: string;
  command: Document;
  compressor?: SupportedCompressor;
}

/** A message the server does not implement; it is answered with an error document. */
export interface UnsupportedRequest {
  kind: 'unsupported';
  header: MessageHeader;
  reason: string;
}

/**
 * An OP_MSG mongod refuses while parsing (unknown required flag bits, a checksum that does not
 * match, an oversized BSON object); it is answered with the error document.
 */
export interface RefusedRequest {
  kind: 'refused';
  header: MessageHeader;
  error: CommandError;
  compressor?: SupportedCompressor;
}

/** A legacy OP_INSERT/OP_UPDATE/OP_DELETE/OP_GET_MORE/OP_KILL_CURSORS message. */
export interface LegacyRequest {
  kind: 'legacy';
  header: MessageHeader;
  opCode: number;
}

/** Anything a client can send. */
export type WireRequest =
  OpMsgRequest | OpQueryRequest | UnsupportedRequest | RefusedRequest | LegacyRequest;

/** Raised for bytes that cannot be a valid message; the connection is closed, as mongod does. */
export class WireProtocolError extends Error {
  override readonly name = 'WireProtocolError';
}

/** Reads the header of the message that starts at `offset`. */
export function readHeader(buf: Buffer, offset = 0): MessageHeader {
  return {
    messageLength: buf.readInt32LE(offset),
    requestId: buf.readInt32LE(offset + 4),
    responseTo: buf.readInt32LE(offset + 8),
    opCode: buf.readInt32LE(offset + 12),
  };
}

function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new WireProtocolError('unterminated cstring');
  return [buf.toString('utf8', offset, end), end + 1];
}

function readDocument(buf: Buffer, offset: number, end: number): [Document, number] {
  if (offset + 4 > end) throw new WireProtocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size > MAX_BSON_INTERNAL_SIZE) {
    throw new CommandError(
      MongoErrorCode.BSONObjectTooLarge,
      `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. ` +
        `Size must be between 0 and ${MAX_BSON_INTERNAL_SIZE}(16MB)`,
    );
  }
  if (size < 5 || offset + size > end) throw new WireProtocolError('invalid BSON document size');
  return [deserialize(buf.subarray(offset, offset + size), EXACT_BSON), offset + size];
}

/** mongod's OP_MSG parse checks: required flag bits it knows, and the CRC-32C checksum. */
function checkOpMsg(header: MessageHeader, body: Buffer, flags: number): void {
  const unknown = flags & REQUIRED_FLAG_BITS & ~KNOWN_FLAG_BITS;
  if (unknown) {
    throw new CommandError(
      MongoErrorCode.IllegalOpMsgFlag,
      `Message contains illegal flags value: Flag ${(flags >>> 0).toString(2).padStart(32, '0')}`,
    );
  }
  if (!(flags & OpMsgFlag.checksumPresent)) return;
  if (body.length < 8) throw new WireProtocolError('OP_MSG too short for its checksum');
  // The checksum covers the (uncompressed) message from its header to just before the checksum.
  const head = Buffer.alloc(HEADER_SIZE);
  head.writeInt32LE(HEADER_SIZE + body.length, 0);
  head.writeInt32LE(header.requestId, 4);
  head.writeInt32LE(header.responseTo, 8);
  head.writeInt32LE(OpCode.OP_MSG, 12);
  const expected = crc32c(Buffer.concat([head, body.subarray(0, body.length - 4)]));
  if (body.readUInt32LE(body.length - 4) !== expected) {
    throw new CommandError(
      MongoErrorCode.ChecksumMismatch,
      'OP_MSG checksum does not match contents',
    );
  }
}

function decodeOpMsg(header: MessageHeader, body: Buffer): Omit<OpMsgRequest, 'compressor'> {
  const flags = body.readUInt32LE(0);
  checkOpMsg(header, body, flags);
  const end = flags & OpMsgFlag.checksumPresent ? body.length - 4 : body.length;
  let offset = 4;
  let command: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = body.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      if (command) throw new WireProtocolError('OP_MSG with more than one body section');
      [command, offset] = readDocument(body, offset, end);
    } else if (kind === 1) {
      const size = body.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new WireProtocolError('invalid document sequence');
      const [identifier, start] = readCString(body, offset + 4);
      let pos = start;
      const docs: Document[] = [];
      while (pos < sectionEnd) {
        let doc: Document;
        [doc, pos] = readDocument(body, pos, sectionEnd);
        docs.push(doc);
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new WireProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!command) throw new WireProtocolError('OP_MSG without a body section');
  for (const [identifier, docs] of sequences) {
    const existing: unknown = command[identifier];
    command[identifier] = Array.isArray(existing) ? [...(existing as Document[]), ...docs] : docs;
  }
  return { kind: 'msg', header, flags, command };
}

function decodeOpQuery(header: MessageHeader, body: Buffer): Omit<OpQueryRequest, 'compressor'> {
  const flags = body.readInt32LE(0);
  const [fullCollectionName, afterName] = readCString(body, 4);
  // numberToSkip and numberToReturn (8 bytes) are meaningless for commands.
  const [query] = readDocument(body, afterName + 8, body.length);
  // Drivers may wrap the command as { $query: {...}, $readPreference: ... }.
  const wrapped: unknown = query.$query;
  const command = wrapped && typeof wrapped === 'object' ? (wrapped as Document) : query;
  return { kind: 'query', header, flags, fullCollectionName, command };
}

/**
 * Decodes one complete message (header included).
 * Throws {@link WireProtocolError} for malformed bytes.
 */
export function decodeMessage(message: Buffer): WireRequest {
  const header = readHeader(message);
  let opCode = header.opCode;
  let body = message.subarray(HEADER_SIZE);
  let compressor: SupportedCompressor | undefined;
  try {
    if (opCode === OpCode.OP_COMPRESSED) {
      const originalOpCode = body.readInt32LE(0);
      const uncompressedSize = body.readInt32LE(4);
      const compressorId = body.readUInt8(8);
      const payload = body.subarray(9);
      if (compressorId === CompressorId.zlib) {
        body = inflateSync(payload);
        compressor = 'zlib';
      } else if (compressorId === CompressorId.noop) {
        body = payload;
      } else {
        return {
          kind: 'unsupported',
          header,
          reason: `OP_COMPRESSED with compressor id ${compressorId} is not supported (only zlib was advertised)`,
        };
      }
      if (body.length !== uncompressedSize) {
        throw new WireProtocolError('OP_COMPRESSED size does not match its uncompressed payload');
      }
      opCode = originalOpCode;
    }
    if (opCode === OpCode.OP_MSG) return { ...decodeOpMsg(header, body), compressor };
    if (opCode === OpCode.OP_QUERY) return { ...decodeOpQuery(header, body), compressor };
  } catch (error) {
    if (error instanceof CommandError) return { kind: 'refused', header, error, compressor };
    if (error instanceof WireProtocolError) throw error;
    throw new WireProtocolError(error instanceof Error ? error.message : String(error));
  }
  if (LEGACY_OPCODES.has(opCode)) return { kind: 'legacy', header, opCode };
  throw new WireProtocolError(`unknown opcode ${opCode}`);
}

function frame(opCode: number, requestId: number, responseTo: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeInt32LE(HEADER_SIZE + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, body]);
}

function compress(
  opCode: number,
  requestId: number,
  responseTo: number,
  body: Buffer,
  compressor: SupportedCompressor | undefined,
): Buffer {
  if (!compressor) return frame(opCode, requestId, responseTo, body);
  const prefix = Buffer.alloc(9);
  prefix.writeInt32LE(opCode, 0);
  prefix.writeInt32LE(body.length, 4);
  prefix.writeUInt8(CompressorId[compressor], 8);
  return frame(
    OpCode.OP_COMPRESSED,
    requestId,
    responseTo,
    Buffer.concat([prefix, deflateSync(body)]),
  );
}

/** Encodes an OP_MSG reply with a single body section. */
export function encodeOpMsg(
  requestId: number,
  responseTo: number,
  doc: Document,
  flags = 0,
  compressor?: SupportedCompressor,
): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(flags, 0);
  head.writeUInt8(0, 4);
  const body = Buffer.concat([head, serialize(doc)]);
  return compress(OpCode.OP_MSG, requestId, responseTo, body, compressor);
}

/**
 * Encodes a legacy OP_REPLY carrying one document (the answer to an OP_QUERY handshake, or a
 * `{ $err, code }` document with {@link QUERY_FAILURE_FLAG}).
 */
export function encodeOpReply(
  requestId: number,
  responseTo: number,
  doc: Document,
  compressor?: SupportedCompressor,
  responseFlags = 0,
): Buffer {
  const head = Buffer.alloc(20);
  head.writeInt32LE(responseFlags, 0);
  head.writeBigInt64LE(0n, 4); // cursorID
  head.writeInt32LE(0, 12); // startingFrom
  head.writeInt32LE(1, 16); // numberReturned
  const body = Buffer.concat([head, serialize(doc)]);
  return compress(OpCode.OP_REPLY, requestId, responseTo, body, compressor);
}
