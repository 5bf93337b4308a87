import { LocalEntry, reconcile } from './reconcile';

describe('reconcile', () => {
  const entries = (pairs: [string, LocalEntry][]) => new Map(pairs);

  it.each<[string, { assigned?: string[]; demanded?: string[]; leased?: string[]; entries?: [string, LocalEntry][] }, string[]]>([
    ['pulls an assigned version the node lacks', { assigned: ['a@1'] }, ['a@1']],
    ['does not pull what is ready or already pulling', { assigned: ['a@1', 'a@2'], entries: [['a@1', { state: 'ready' }], ['a@2', { state: 'pulling' }]] }, []],
    ['pulls a pending entry', { assigned: ['a@1'], entries: [['a@1', { state: 'pending' }]] }, ['a@1']],
    ['retries a failed pull once its backoff has passed', { assigned: ['a@1', 'a@2'], entries: [['a@1', { state: 'failed', retryAt: 500 }], ['a@2', { state: 'failed', retryAt: 2000 }]] }, ['a@1']],
    ['pulls what pods demand first, and each version once', { assigned: ['a@1', 'b@1'], demanded: ['b@1'] }, ['b@1', 'a@1']],
    ['does not pull a version only leased', { leased: ['a@1'] }, []],
    ['leaves alone what is no longer assigned', { entries: [['a@1', { state: 'ready' }]] }, []],
  ])('%s', (_, input, pull) => {
    const plan = reconcile({ assigned: [], demanded: [], leased: [], now: 1000, ...input, entries: entries(input.entries ?? []) });
    expect(plan.pull).toEqual(pull);
  });

  it('keeps assigned, leased, demanded and in-flight versions from eviction, and nothing else', () => {
    const plan = reconcile({
      assigned: ['a@1'],
      demanded: ['d@1'],
      leased: ['l@1'],
      entries: entries([['p@1', { state: 'pulling' }], ['old@1', { state: 'ready' }]]),
      now: 0,
    });
    expect([...plan.keep].sort()).toEqual(['a@1', 'd@1', 'l@1', 'p@1']);
  });
});
