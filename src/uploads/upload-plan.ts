import { MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from '../storage/artifact-store';

export interface UploadPlan {
  partSize: number;
  partCount: number;
}

const MIB = 1024 * 1024;

/**
 * The part size for a file: the configured size, raised to ceil(size / 10,000) (rounded up to
 * a whole MiB) so the file fits in S3's 10,000 parts, and kept within S3's 5 MiB–5 GiB.
 */
export function planUpload(size: number, preferredPartSize: number): UploadPlan {
  const needed = Math.ceil(Math.ceil(size / MAX_PARTS) / MIB) * MIB;
  const partSize = Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, preferredPartSize, needed));
  const partCount = Math.max(1, Math.ceil(size / partSize));
  return { partSize, partCount };
}

/** The exact byte count of part `number` (1-based). */
export function partSizeOf(plan: UploadPlan, size: number, number: number): number {
  return number < plan.partCount ? plan.partSize : size - (plan.partCount - 1) * plan.partSize;
}
