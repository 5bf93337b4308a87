import { formatReference, parseReference } from './reference';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['vision/resnet50:prod', undefined, 'vision/resnet50:prod'],
    ['resnet50:prod', 'vision', 'vision/resnet50:prod'],
    ['vision/resnet50@3', undefined, 'vision/resnet50@3'],
    [`vision/resnet50@${DIGEST}`, undefined, `vision/resnet50@${DIGEST}`],
  ])('reads %s (namespace %s) as %s', (input, namespace, expected) => {
    expect(formatReference(parseReference(input, namespace))).toBe(expected);
  });

  it.each([
    ['vision/resnet50', /not a reference/],
    ['resnet50:prod', /names no project/],
    ['Vision/resnet50:prod', /not a DNS label/],
    ['vision/resnet50@0', /positive integer/],
    ['vision/resnet50@sha256:abc', /neither a version number nor a sha256/],
    ['vision/res net:prod', /not a reference|model/],
    ['a/b/c:prod', /not a reference/],
  ])('refuses %s saying %s', (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
  });
});
