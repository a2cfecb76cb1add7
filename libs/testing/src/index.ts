export * from './redis/index.js';
export * from './util/index.js';
