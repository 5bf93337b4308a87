/** Where a transfer reports its bytes; the CLI draws a bar, other callers may log or ignore it. */
export interface ProgressSink {
  add(bytes: number): void;
  finish(): void;
}

/** Makes one sink per phase (`hashing`, `uploading`, `downloading`) with the bytes it will see. */
export type ProgressFactory = (phase: string, totalBytes: number) => ProgressSink;

export const NO_PROGRESS: ProgressFactory = () => ({ add: () => undefined, finish: () => undefined });
