// The evidence pack's schema is a contract (the timeline, the store and the page carry it):
// it lives in workflows/contracts-evidence.ts; this module is its name in the domain code.
export * from '../../workflows/contracts-evidence.js';
