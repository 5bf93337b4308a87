import { WharfError } from '../errors/wharf-error';
import { completeReference, formatReference, parseReference } from './reference';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseReference', () => {
  it.each([
    ['vision/resnet:prod', { project: 'vision', model: 'resnet', selector: { kind: 'tag', tag: 'prod' } }],
    ['vision/resnet@3', { project: 'vision', model: 'resnet', selector: { kind: 'number', number: 3 } }],
    [`vision/resnet@${DIGEST}`, { project: 'vision', model: 'resnet', selector: { kind: 'digest', digest: DIGEST } }],
    ['resnet:v1.2-rc_1', { project: undefined, model: 'resnet', selector: { kind: 'tag', tag: 'v1.2-rc_1' } }],
    ['resnet@12', { project: undefined, model: 'resnet', selector: { kind: 'number', number: 12 } }],
    [':latest', { selector: { kind: 'tag', tag: 'latest' } }],
    ['@7', { selector: { kind: 'number', number: 7 } }],
  ])('reads %s', (raw, expected) => {
    expect(parseReference(raw)).toEqual(expected);
  });

  it('reads a bare word as a tag only when asked to', () => {
    expect(parseReference('prod', { bareIsTag: true })).toEqual({ selector: { kind: 'tag', tag: 'prod' } });
    expect(() => parseReference('prod')).toThrow(WharfError);
  });

  it.each([
    '',
    'vision/resnet',
    'vision/resnet@0',
    'vision/resnet@03',
    'vision/resnet@-1',
    'vision/resnet@1.5',
    'vision/resnet@99999999999',
    'vision/resnet@sha256:abc',
    `vision/resnet@sha256:${'AB'.repeat(32)}`,
    `vision/resnet@md5:${'ab'.repeat(16)}`,
    'vision/resnet:',
    'vision/resnet:-bad',
    'vision/resnet:has space',
    `vision/resnet:${'a'.repeat(129)}`,
    'a/b/c:prod',
    'Vision/resnet:prod',
    'vision/Res Net:prod',
    'vision/resnet:prod@3',
  ])('refuses %j with invalid_reference', (raw) => {
    try {
      parseReference(raw);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(WharfError);
      expect((error as WharfError).code).toBe('invalid_reference');
    }
  });
});

describe('completeReference', () => {
  it('fills the project and model of the route', () => {
    const full = completeReference(parseReference('@3'), { project: 'vision', model: 'resnet' });
    expect(formatReference(full)).toBe('vision/resnet@3');
  });

  it('refuses a reference into another project or model', () => {
    expect(() => completeReference(parseReference('other/resnet:prod'), { project: 'vision' })).toThrow(WharfError);
    expect(() => completeReference(parseReference('bert:prod'), { project: 'vision', model: 'resnet' })).toThrow(WharfError);
  });

  it('needs a model when the route has none', () => {
    expect(() => completeReference(parseReference(':prod'), { project: 'vision' })).toThrow(WharfError);
  });
});
