import { manifestDigest } from './manifest';

const a = { path: 'model.safetensors', size: 10, sha256: 'a'.repeat(64) };
const b = { path: 'config.json', size: 2, sha256: 'b'.repeat(64) };

describe('manifestDigest', () => {
  it('does not depend on the order files were listed in', () => {
    expect(manifestDigest([a, b])).toBe(manifestDigest([b, a]));
  });

  it('changes when a path, a size or a digest changes', () => {
    const base = manifestDigest([a, b]);
    expect(manifestDigest([{ ...a, path: 'x' }, b])).not.toBe(base);
    expect(manifestDigest([{ ...a, size: 11 }, b])).not.toBe(base);
    expect(manifestDigest([{ ...a, sha256: 'c'.repeat(64) }, b])).not.toBe(base);
  });

  it('is a sha256 reference', () => {
    expect(manifestDigest([a])).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
