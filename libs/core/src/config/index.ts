export * from './config-issue.interface.js';
