import { createHash } from 'node:crypto';
import { hashUnit as registryHashUnit, rendezvousPick as registryPick } from '../../src/endpoints/routing';
import { hashUnit, previewKeyMoves, rendezvousPick, storedRef } from '../../web/src/split/key-moves';
import { sha256 } from '../../web/src/split/sha256';

describe("the console's split preview", () => {
  it('hashes like node:crypto for empty, ASCII, multi-byte and block-boundary inputs', () => {
    const inputs = ['', 'abc', 'vision/resnet50:prod\nuser-42', 'ünïcödé ✓ 模型', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'y'.repeat(1000)];
    for (const input of inputs) expect(Buffer.from(sha256(input)).toString('hex')).toBe(createHash('sha256').update(input, 'utf8').digest('hex'));
  });

  it('picks the same route as the registry for every key', () => {
    const routes = [
      { id: 'vision/resnet50:prod', weight: 70 },
      { id: 'vision/resnet50@7', weight: 20 },
      { id: 'vision/resnet50@8', weight: 10 },
      { id: 'vision/resnet50@9', weight: 0 },
    ];
    for (let i = 0; i < 500; i++) {
      const key = `user-${i}`;
      expect(hashUnit(key)).toBe(registryHashUnit(key));
      expect(rendezvousPick(key, routes)).toBe(registryPick(key, routes));
    }
  });

  it('counts the keys a change moves: none for a reorder, about the minimum for 90/10 → 80/20', () => {
    const before = [{ id: 'p/m@1', weight: 90 }, { id: 'p/m@2', weight: 10 }];
    expect(previewKeyMoves(before, [...before].reverse()).moved).toBe(0);
    const shifted = previewKeyMoves(before, [{ id: 'p/m@1', weight: 80 }, { id: 'p/m@2', weight: 20 }], 4000);
    expect(shifted.moved / shifted.sampled).toBeGreaterThan(0.08);
    expect(shifted.moved / shifted.sampled).toBeLessThan(0.12);
    // Every moved key went from the shrinking route to the growing one.
    expect(shifted.netByRoute).toEqual({ 'p/m@1': -shifted.moved, 'p/m@2': shifted.moved });
  });

  it('tells keys that change version from keys that only change route', () => {
    const before = [{ id: 'p/m:prod', weight: 90 }, { id: 'p/m@2', weight: 10 }];
    const after = [{ id: 'p/m:prod', weight: 50 }, { id: 'p/m@2', weight: 50 }];
    // prod points at 2: moving keys between the routes changes nobody's version.
    expect(previewKeyMoves(before, after, 1000, () => 2)).toMatchObject({ versionChanged: 0 });
    const served: Record<string, number> = { 'p/m:prod': 1, 'p/m@2': 2 };
    const split = previewKeyMoves(before, after, 1000, (id) => served[id]);
    expect(split.versionChanged).toBe(split.moved);
    expect(split.moved).toBeGreaterThan(300);
    // A route the registry does not serve yet counts as a change.
    expect(previewKeyMoves(before, [{ id: 'p/m@3', weight: 100 }], 1000, (id) => served[id]).versionChanged).toBe(1000);
  });

  it('prefixes the project to a ref given without one, as the registry stores it', () => {
    expect(storedRef('vision', ' resnet50:prod ')).toBe('vision/resnet50:prod');
    expect(storedRef('vision', 'other/resnet50@3')).toBe('other/resnet50@3');
  });
});
