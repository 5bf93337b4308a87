import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { encodeCursor, paginateSql } from '../../src/common/pagination/cursor';
import { startTestRegistry, TestRegistry } from '../support/test-registry';

interface Row {
  id: string;
  label: string;
  created_at: Date;
}

const ASCENDING = { sort: 'createdAt', column: 'created_at', idColumn: 'id', cast: 'timestamptz', descending: false };
const DESCENDING = { ...ASCENDING, sort: '-createdAt', descending: true };

/** paginateSql against the registry's own Postgres: the helper every raw-SQL list pages with. */
describe('keyset paging over SQL', () => {
  let wharf: TestRegistry;
  let db: DataSource;
  const table = `paging_${randomUUID().replace(/-/g, '')}`;

  beforeAll(async () => {
    wharf = await startTestRegistry();
    db = wharf.registry.dataSource;
    await db.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY, label text NOT NULL, created_at timestamptz NOT NULL)`);
    // Seven rows, three sharing one timestamp to the microsecond: ties are broken by id, and a
    // JavaScript Date (milliseconds) would lose the microseconds the cursor must carry.
    const stamps = ['2026-01-01 00:00:00.000001+00', '2026-01-01 00:00:00.000002+00', '2026-01-01 00:00:00.000002+00', '2026-01-01 00:00:00.000002+00'];
    stamps.push('2026-01-01 00:00:00.000003+00', '2026-01-02 00:00:00+00', '2026-01-03 00:00:00.5+00');
    for (const [index, stamp] of stamps.entries()) {
      await db.query(`INSERT INTO ${table} (id, label, created_at) VALUES ($1, $2, $3)`, [randomUUID(), `row-${index}`, stamp]);
    }
    await db.query(`INSERT INTO ${table} (id, label, created_at) VALUES ($1, 'other', now())`, [randomUUID()]);
  });
  afterAll(async () => {
    await db?.query(`DROP TABLE IF EXISTS ${table}`);
    await wharf?.close();
  });

  const everyPage = async (order: typeof ASCENDING, limit: number): Promise<{ labels: string[]; pages: number }> => {
    const labels: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await paginateSql<Row>(db, `SELECT id, label, created_at FROM ${table} WHERE label LIKE $1`, ['row-%'], order, cursor, limit);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      for (const item of page.items) expect(Object.keys(item).sort()).toEqual(['created_at', 'id', 'label']);
      labels.push(...page.items.map((item) => item.label));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    return { labels, pages };
  };

  it('pages through every row once, in order, ties included, with the query’s own parameters', async () => {
    const all = (await db.query(`SELECT label FROM ${table} WHERE label LIKE 'row-%' ORDER BY created_at, id`)).map((row: { label: string }) => row.label);
    expect(all).toHaveLength(7);
    for (const limit of [1, 2, 3, 7, 50]) {
      const { labels, pages } = await everyPage(ASCENDING, limit);
      expect(labels).toEqual(all);
      expect(pages).toBe(Math.max(1, Math.ceil(7 / limit)));
    }
    expect((await everyPage(DESCENDING, 2)).labels).toEqual([...all].reverse());
  });

  it('refuses a cursor made for another sort, one it did not make, and one whose parts are not of their types', async () => {
    const first = await paginateSql<Row>(db, `SELECT id, label, created_at FROM ${table}`, [], ASCENDING, undefined, 2);
    expect(first.nextCursor).not.toBeNull();
    const refused = [
      first.nextCursor!, // made for createdAt, asked under -createdAt
      'bm90LWEtY3Vyc29y',
      encodeCursor({ v: 'yesterday', id: randomUUID(), s: '-createdAt' }),
      encodeCursor({ v: '2026-01-01 00:00:00+00', id: "1'; DROP TABLE x; --", s: '-createdAt' }),
    ];
    for (const cursor of refused) {
      await expect(paginateSql(db, `SELECT id, label, created_at FROM ${table}`, [], DESCENDING, cursor, 2)).rejects.toMatchObject({ code: 'invalid_cursor' });
    }
  });
});
