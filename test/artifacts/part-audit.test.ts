import { createHash } from 'node:crypto';
import { createUpload, partOf, putPart } from '../support/artifacts';
import { auth, seedModel } from '../support/release-fixtures';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('the audit trail of upload parts', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ UPLOAD_PART_SIZE: String(5 * 1024 * 1024) });
    await seedModel(registry.http, 'parts', 'm', 0);
    await registry.http.post('/api/v1/projects/parts/models/m/versions').set(auth).send({}).expect(201);
  });
  afterAll(() => registry?.close());

  it('records each stored part once, with its number, size and checked sha256, and nothing for a refused part', async () => {
    const data = Buffer.alloc(6 * 1024 * 1024 + 10, 7);
    const upload = await createUpload(registry.url, '/api/v1/projects/parts/models/m/versions/1', { path: 'weights.bin', data });
    expect(upload.partCount).toBe(2);
    const [first, second] = [partOf(data, upload, 1), partOf(data, upload, 2)];
    // Sent without a digest, a part is not hashed on the way (the file's sha256 is checked at complete).
    await putPart(registry.url, upload.id, 2, second).expect(200);
    await putPart(registry.url, upload.id, 1, first, sha256(Buffer.from('not these bytes'))).expect(400);
    await putPart(registry.url, upload.id, 1, first, sha256(first)).expect(200);

    const records: { actor: string; action: string; target: string; project: string; details: Record<string, unknown> }[] =
      await registry.registry.dataSource.query(`SELECT actor, action, target, project, details FROM audit_events WHERE action = 'upload.part' ORDER BY id`);
    expect(records).toEqual([
      { actor: 'admin', action: 'upload.part', target: 'parts/m@1/weights.bin', project: 'parts', details: { upload: upload.id, part: 2, size: second.length, sha256: null } },
      { actor: 'admin', action: 'upload.part', target: 'parts/m@1/weights.bin', project: 'parts', details: { upload: upload.id, part: 1, size: first.length, sha256: sha256(first) } },
    ]);
  });
});
