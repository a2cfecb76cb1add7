export * from './http/index.js';
export * from './mongo/index.js';
export * from './proxy/index.js';
export * from './redis/index.js';
export * from './util/index.js';
