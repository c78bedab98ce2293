export * from './certificate-authority.js';
