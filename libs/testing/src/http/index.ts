export * from './http-test-upstream.js';
export * from './http-upstream.types.js';
