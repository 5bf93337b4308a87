import { WharfClient } from '../../src/client/wharf-client';
import { nestRoutes } from '../support/route-table';
import { ADMIN_TOKEN, startTestRegistry, TestRegistry } from '../support/test-registry';

/**
 * The typed client is the one way the CLI, the node agent and the operator reach the registry,
 * so it must reach every route. This walks a whole workflow through the client only, then asks
 * the registry's own request metrics which route templates were served: any route the client
 * cannot call shows up as missing.
 */
describe('the typed client', () => {
  let wharf: TestRegistry;
  let client: WharfClient;
  beforeAll(async () => {
    // The client's own token doubles as kube-apiserver's and kube-scheduler's, so the TokenReview
    // and scheduler extender routes are served.
    wharf = await startTestRegistry({ WEBHOOK_DISPATCH_ENABLED: 'false', TOKENREVIEW_BEARER_TOKEN: ADMIN_TOKEN, SCHEDULER_EXTENDER_TOKEN: ADMIN_TOKEN });
    client = new WharfClient({ url: wharf.url, token: ADMIN_TOKEN, retries: 0 });
  });
  afterAll(async () => {
    await wharf?.close();
  });

  it('calls every route the registry serves', async () => {
    await client.health();
    await client.ready();
    const token = await client.createToken({ name: 'walk' });
    await client.listTokens();
    await client.getToken(token.id);
    await client.revokeToken(token.id);

    await client.createProject({ name: 'walk' });
    await client.listProjects();
    await client.getProject('walk');
    await client.updateProject('walk', { description: 'walked' });
    await client.putQuota('walk', { storage: '1Gi', cpu: '4' });
    await client.getQuota('walk');
    await client.storageUsage('walk');
    await client.putMember('walk', 'bob', 'viewer');
    await client.getMember('walk', 'bob');
    await client.listMembers('walk');
    await client.removeMember('walk', 'bob');

    await client.createModel('walk', { name: 'm' });
    await client.listModels('walk');
    await client.getModel('walk', 'm');
    await client.updateModel('walk', 'm', { labels: { a: 'b' } });
    await client.createVersion('walk', 'm', {});
    await client.listVersions('walk', 'm');
    await client.getVersion('walk', 'm', 1);
    await client.updateVersion('walk', 'm', 1, { description: 'first' });
    const data = Buffer.from('client walk');
    const sha256 = (await import('node:crypto')).createHash('sha256').update(data).digest('hex');
    const upload = await client.createUpload('walk', 'm', 1, { path: 'w.bin', size: data.length, sha256 });
    await client.putPart(upload.id, 1, data, sha256);
    await client.getUpload(upload.id);
    await client.completeUpload(upload.id);
    const aborted = await client.createUpload('walk', 'm', 1, { path: 'x.bin', size: 3, sha256: 'a'.repeat(64) });
    await client.abortUpload(aborted.id);
    const formed = await client.uploadFiles('walk', 'm', 1, [{ path: 'dir/form.bin', data: Buffer.from('form bytes') }]);
    expect(formed).toEqual([expect.objectContaining({ path: 'dir/form.bin', size: 10 })]);
    await client.commitVersion('walk', 'm', 1);
    await client.manifest('walk', 'm', 1);
    await client.statFile('walk', 'm', 1, 'w.bin');
    // Read to the end: a body destroyed at once can abort the response before the registry
    // counts it in its request metrics, and the route would look uncalled.
    const downloaded: Buffer[] = [];
    for await (const chunk of (await client.download('walk', 'm', 1, 'w.bin')).body) downloaded.push(Buffer.from(chunk as Uint8Array));
    expect(Buffer.concat(downloaded).toString()).toBe('client walk');
    await client.createVersion('walk', 'm', {});
    await client.deleteVersion('walk', 'm', 2);
    await client.createVersion('walk', 'm', {});
    await client.uploadFiles('walk', 'm', 3, [{ path: 'w.bin', data: Buffer.from('version three') }]);
    await client.commitVersion('walk', 'm', 3);

    await client.moveTag('walk', 'm', 'prod', { version: 1 });
    await client.moveTag('walk', 'm', 'prod', { version: 3 });
    await client.listTags('walk', 'm');
    await client.getTag('walk', 'm', 'prod');
    await client.pinTag('walk', 'm', 'prod');
    await client.unpinTag('walk', 'm', 'prod');
    await client.tagHistory('walk', 'm', 'prod');
    await client.resolve('walk', 'm', ':prod');
    await client.moveTag('walk', 'm', 'canary', { version: 1 });
    await client.deleteTag('walk', 'm', 'canary');
    await client.putEndpoint('walk', 'web', { routes: [{ ref: 'm:prod', weight: 100 }] });
    await client.listEndpoints('walk');
    await client.getEndpoint('walk', 'web');
    await client.route('walk', 'web', 'user-1');
    await client.deleteEndpoint('walk', 'web');
    expect(await client.rollbackTag('walk', 'm', 'prod')).toMatchObject({ version: 1, pinned: true });

    const warmup = await client.createWarmup('walk', { model: 'm', ref: ':prod', selector: { matchLabels: { gpu: 'a100' } } });
    await client.listWarmups('walk');
    await client.getWarmup('walk', warmup.id);
    const beat = await client.heartbeat('node-1', { labels: { gpu: 'a100' }, capacityBytes: 1e9, budgetBytes: 5e8, usedBytes: 0, entries: [], demands: [] });
    expect(beat.assignments).toEqual([expect.objectContaining({ project: 'walk', model: 'm', version: 1 })]);
    await client.listNodes();
    await client.getNode('node-1');
    await client.locations('walk', 'm', 1);
    await client.deleteNode('node-1');
    await client.deleteWarmup('walk', warmup.id);

    const subscription = await client.createSubscription('walk', { url: 'http://127.0.0.1:9/hook', events: ['model.created'] });
    await client.listSubscriptions('walk');
    await client.getSubscription('walk', subscription.id);
    await client.listDeliveries('walk', subscription.id);
    await client.deleteSubscription('walk', subscription.id);
    await client.listAudit({ project: 'walk' });
    await client.tokenReview({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: ADMIN_TOKEN } });
    await client.runGc();
    const extenderArgs = { Pod: { metadata: { name: 'p' } }, NodeNames: ['node-1'] };
    await client.schedulerFilter(extenderArgs);
    await client.schedulerPrioritize(extenderArgs);
    await client.schedulerFilter(extenderArgs, { pathToken: ADMIN_TOKEN });
    await client.schedulerPrioritize(extenderArgs, { pathToken: ADMIN_TOKEN });

    await client.deleteModel('walk', 'm');
    await client.deleteProject('walk');
    await client.metrics();

    const served = new Set(
      [...(await client.metrics()).matchAll(/wharf_http_request_duration_seconds_count\{method="(\w+)",route="([^"]+)"/g)].map((match) => `${match[1]} ${match[2]}`),
    );
    const missing = nestRoutes(wharf.registry.app)
      .map((route) => `${route.method} ${route.path}`)
      .filter((route) => !served.has(route));
    expect(missing).toEqual([]);
  });
});
