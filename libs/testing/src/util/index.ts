export * from './free-port.js';
export * from './test-certificates.js';
export * from './wait-for.js';
