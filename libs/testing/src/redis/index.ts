export * from './redis-binary.js';
export * from './redis-process.js';
export * from './redis-test-server.js';
