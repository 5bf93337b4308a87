import { MAX_PARTS, MIN_PART_SIZE } from '../storage/artifact-store';
import { partSizeOf, planUpload } from './upload-plan';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

describe('planUpload', () => {
  it.each([
    ['an empty file is one empty part', 0, 16 * MIB, 16 * MIB, 1],
    ['a small file is one part', 1000, 16 * MIB, 16 * MIB, 1],
    ['a file of exactly one part', 16 * MIB, 16 * MIB, 16 * MIB, 1],
    ['one byte more needs a second part', 16 * MIB + 1, 16 * MIB, 16 * MIB, 2],
    ['a configured size under 5 MiB is raised to 5 MiB', 20 * MIB, 1 * MIB, 5 * MIB, 4],
    ['a 1 TiB file fits in 10,000 parts', 1024 * GIB, 16 * MIB, 105 * MIB, 9987],
    ['a 5 TiB file fits in 10,000 parts', 5 * 1024 * GIB, 16 * MIB, 525 * MIB, 9987],
    ['the part size never passes 5 GiB', 60 * 1024 * GIB, 16 * MIB, 5 * GIB, 12288],
  ])('%s', (_, size, preferred, partSize, partCount) => {
    expect(planUpload(size, preferred)).toEqual({ partSize, partCount });
  });

  it('keeps every part but the last at least 5 MiB and the parts within 10,000 for any size up to 5 TiB', () => {
    for (const size of [5 * MIB - 1, 5 * MIB, 5 * MIB + 1, 50 * GIB + 7, 5 * 1024 * GIB]) {
      const plan = planUpload(size, MIN_PART_SIZE);
      expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
      if (plan.partCount > 1) expect(partSizeOf(plan, size, plan.partCount - 1)).toBeGreaterThanOrEqual(MIN_PART_SIZE);
      expect(partSizeOf(plan, size, plan.partCount)).toBeGreaterThanOrEqual(0);
      expect((plan.partCount - 1) * plan.partSize + partSizeOf(plan, size, plan.partCount)).toBe(size);
    }
  });
});
