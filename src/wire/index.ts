export * from './errors.js';
export * from './message-ids.js';
export * from './reader.js';
export * from './writer.js';
