import { createSql, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { takeNextNumber, takeNextNumberCte } from '../../db/numbers';
import { createProject } from '../../db/queries/projects';
import { startTestPostgres } from '../support/servers';

let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let sql: Sql;

beforeAll(async () => {
  postgres = await startTestPostgres();
  sql = createSql(postgres.url);
  await migrate(sql);
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await postgres?.stop();
});

const viaCte = async (projectId: string, date: string) =>
  (await sql<{ number: string }[]>`with ${takeNextNumberCte(sql, projectId, 'INVOICE', date)} select number from taken_number`)[0]!.number;

test('taking a number in a statement continues the same range, in the same format, as taking it alone', async () => {
  const project = await createProject(sql, 'numbers', 'Europe/Berlin');
  expect(await takeNextNumber(sql, project.id, 'INVOICE', '2026-03-01')).toBe('RE-2026-000001');
  expect(await viaCte(project.id, '2026-12-31')).toBe('RE-2026-000002');
  expect(await takeNextNumber(sql, project.id, 'INVOICE', '2026-06-01')).toBe('RE-2026-000003');
  // a new year starts a new range
  expect(await viaCte(project.id, '2027-01-01')).toBe('RE-2027-000001');
});

test('a range past its width grows a digit instead of being cut', async () => {
  const project = await createProject(sql, 'numbers-wide', 'Europe/Berlin');
  await sql`insert into number_ranges (project_id, kind, year, last_value) values (${project.id}, 'INVOICE', 2026, 999999)`;
  expect(await viaCte(project.id, '2026-05-05')).toBe('RE-2026-1000000');
  expect(await takeNextNumber(sql, project.id, 'INVOICE', '2026-05-05')).toBe('RE-2026-1000001');
});

test('a rolled-back statement gives its number back', async () => {
  const project = await createProject(sql, 'numbers-rollback', 'Europe/Berlin');
  await expect(
    sql.begin(async (tx) => {
      await tx`with ${takeNextNumberCte(tx, project.id, 'INVOICE', '2026-05-05')} select number from taken_number`;
      throw new Error('rolled back');
    }),
  ).rejects.toThrow('rolled back');
  expect(await viaCte(project.id, '2026-05-05')).toBe('RE-2026-000001');
});
