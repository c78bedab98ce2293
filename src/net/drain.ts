import type { Writable } from 'node:stream';

/**
 * Resolves when `stream` can take more data ('drain') or never will ('close'), without leaving
 * either listener behind. Resolves at once when it is not waiting for a drain or is destroyed.
 */
export function drainedOrClosed(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
