import type { Document } from 'bson';

/** Server error codes the wire server answers with (same numbers and names as mongod). */
export const MongoErrorCode = {
  BadValue: 2,
  Unauthorized: 13,
  FailedToParse: 9,
  TypeMismatch: 14,
  InvalidLength: 16,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  IllegalOpMsgFlag: 223,
  TransactionTooOld: 225,
  ChecksumMismatch: 288,
  UnsupportedOpQueryCommand: 352,
  BSONObjectTooLarge: 10334,
  NotWritablePrimary: 10107,
  NotPrimaryNoSecondaryOk: 13435,
  DuplicateKey: 11000,
  Location15975: 15975,
  Location17419: 17419,
  Location17420: 17420,
  Location40324: 40324,
  Location40571: 40571,
  Location50768: 50768,
  Location5739101: 5739101,
} as const;

const CODE_NAMES = new Map<number, string>(
  Object.entries(MongoErrorCode).map(([name, code]) => [code, name]),
);

/** The `codeName` mongod reports for `code` (empty when unknown). */
export function codeNameOf(code: number): string {
  return CODE_NAMES.get(code) ?? '';
}

/**
 * A command failure; the server turns it into `{ ok: 0, errmsg, code, codeName, ...extra }`.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';

  /**
   * @param code server error code (see {@link MongoErrorCode})
   * @param message becomes `errmsg`
   * @param extra further fields of the error document (`keyPattern`, `keyValue`, `errorLabels`…)
   */
  constructor(
    readonly code: number,
    message: string,
    readonly extra: Document = {},
  ) {
    super(message);
  }

  /** The error document as mongod sends it. */
  toDocument(): Document {
    return {
      ok: 0,
      errmsg: this.message,
      code: this.code,
      codeName: codeNameOf(this.code),
      ...this.extra,
    };
  }
}
