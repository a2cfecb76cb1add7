// The HTTP pool's configuration alone (no transport, no Nest): `@nest-pools/http/config`, which
// `nest-pools-config explain` loads through the "nest-pools" field of package.json.
export * from './http-pool.config.js';
export { HTTP_POOL_FIELDS, HTTP_TRANSPORTS, type HttpTransport } from './http-pool.fields.js';
export { HTTP_POOL_PRESETS } from './http-pool.presets.js';
