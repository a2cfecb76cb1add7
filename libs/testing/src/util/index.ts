export * from './free-port.js';
export * from './wait-for.js';
