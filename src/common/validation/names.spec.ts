import { WharfError } from '../errors/wharf-error';
import { assertName, labelsProblems, nameProblem } from './names';

describe('nameProblem', () => {
  it.each([
    ['project', 'vision'],
    ['project', 'a'],
    ['project', 'team-42'],
    ['project', 'a'.repeat(63)],
    ['model', 'resnet50'],
    ['model', 'bert.base_uncased-v2'],
    ['principal', 'ci.bot@vision'],
  ] as const)('accepts the %s name %j', (kind, value) => {
    expect(nameProblem(kind, value)).toBeUndefined();
  });

  it.each([
    ['project', 'Vision', 'uppercase'],
    ['project', 'a'.repeat(64), 'too long'],
    ['project', '..', 'dots'],
    ['project', 'my project', 'a space'],
    ['project', 'vißion', 'non-ASCII'],
    ['project', '-vision', 'a leading dash'],
    ['project', 'vision.team', 'a dot (not a DNS label)'],
    ['project', '', 'empty'],
    ['model', 'a..b', 'two dots in a row'],
    ['model', '..', 'a parent reference'],
    ['model', 'ResNet', 'uppercase'],
    ['model', 'res net', 'a space'],
    ['model', 'a'.repeat(129), 'too long'],
    ['model', 'résnet', 'non-ASCII'],
    ['model', 'a/b', 'a slash'],
    ['model', '.hidden', 'a leading dot'],
  ] as const)('refuses the %s name %j (%s)', (kind, value, _why) => {
    expect(nameProblem(kind, value)).toEqual(expect.any(String));
  });

  it('throws a 400 invalid_name naming the field', () => {
    expect.assertions(3);
    try {
      assertName('model', 'Bad Name', 'name');
    } catch (error) {
      expect(error).toBeInstanceOf(WharfError);
      expect((error as WharfError).status).toBe(400);
      expect((error as WharfError).extensions.errors).toEqual([{ field: 'name', message: expect.any(String) }]);
    }
  });
});

describe('labelsProblems', () => {
  it('accepts Kubernetes-style labels', () => {
    expect(labelsProblems({ team: 'vision', 'app.kubernetes.io/name': 'resnet', empty: '' })).toEqual([]);
  });

  it('names each bad label', () => {
    expect(labelsProblems({ 'bad key': 'x', ok: 'bad value!', num: 3 }).map((p) => p.field)).toEqual([
      'labels.bad key',
      'labels.ok',
      'labels.num',
    ]);
  });

  it('refuses arrays and too many labels', () => {
    expect(labelsProblems(['a'])).toHaveLength(1);
    expect(labelsProblems(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])))).toHaveLength(1);
  });
});
