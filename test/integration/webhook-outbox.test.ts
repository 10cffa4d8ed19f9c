import { createSql, type Queryable, type Sql } from '../../db/client';
import { migrate } from '../../db/migrate';
import { createProject } from '../../db/queries/projects';
import { insertWebhookEndpoint, listDueWebhookDeliveries } from '../../db/queries/webhooks';
import { startTestPostgres } from '../support/servers';

/**
 * The webhook outbox on a real PostgreSQL, without the rest of the engine: an event exists exactly when the
 * transaction of its fact commits, and a contract's events take their ids in commit order (else a later event
 * could be delivered before an earlier one that committed after it took its id).
 */

jest.setTimeout(120_000);

let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
let sql: Sql;
let projectId: string;
let endpointId: string;

beforeAll(async () => {
  postgres = await startTestPostgres();
  sql = createSql(postgres.url);
  await migrate(sql);
  projectId = (await createProject(sql, 'outbox', 'Europe/Berlin')).id;
  endpointId = (await insertWebhookEndpoint(sql, { projectId, url: 'https://93.184.215.14/hook', events: ['CONTRACT_PAUSED', 'CONTRACT_RESUMED'], secret: 'whsec_AAAA', description: null })).id;
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await postgres?.stop();
});

const emit = (connection: Queryable, type: string, contractNumber: string) =>
  connection`select webhook_emit(${projectId}, ${type}, ${contractNumber}, '{}'::jsonb)`;

const typesOf = async (contractNumber: string) =>
  (await sql<{ type: string }[]>`
    select e.event_type as type from webhook_deliveries d join webhook_events e on e.id = d.event_id
    where d.endpoint_id = ${endpointId} and e.contract_number = ${contractNumber} order by e.id`).map((row) => row.type);

test('a rolled-back fact leaves no event and no delivery; an event of a type no endpoint wants is not written', async () => {
  await expect(
    sql.begin(async (tx) => {
      await emit(tx, 'CONTRACT_PAUSED', 'V-ROLLBACK');
      throw new Error('the fact fails after its event');
    }),
  ).rejects.toThrow('the fact fails after its event');
  expect(await typesOf('V-ROLLBACK')).toEqual([]);
  await emit(sql, 'INVOICE_CREATED', 'V-UNWANTED');
  expect(await sql`select 1 from webhook_events where contract_number = 'V-UNWANTED'`).toHaveLength(0);
});

test("a contract's events take their ids in the order their transactions commit: a later one waits for an open earlier one", async () => {
  // T1 emits for the contract and stays open; T2 emits for the same contract meanwhile and must not overtake it
  let releaseFirst!: () => void;
  const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
  let firstEmitted!: () => void;
  const firstHasId = new Promise<void>((resolve) => (firstEmitted = resolve));
  const first = sql.begin(async (tx) => {
    await emit(tx, 'CONTRACT_PAUSED', 'V-ORDER');
    firstEmitted();
    await firstMayCommit;
  });
  await firstHasId;
  let secondDone = false;
  const second = emit(sql, 'CONTRACT_RESUMED', 'V-ORDER').then(() => {
    secondDone = true;
  });
  // another contract's event is not held up
  await emit(sql, 'CONTRACT_PAUSED', 'V-OTHER');
  expect(await typesOf('V-OTHER')).toEqual(['CONTRACT_PAUSED']);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(secondDone).toBe(false);
  expect(await typesOf('V-ORDER')).toEqual([]);
  expect((await listDueWebhookDeliveries(sql, endpointId, 50)).map((due) => due.orderingKey)).toEqual(['V-OTHER']);

  releaseFirst();
  await first;
  await second;
  expect(await typesOf('V-ORDER')).toEqual(['CONTRACT_PAUSED', 'CONTRACT_RESUMED']);
  // the contract's first delivery only: the second waits until the first is delivered
  const due = (await listDueWebhookDeliveries(sql, endpointId, 50)).filter((row) => row.orderingKey === 'V-ORDER');
  expect(await typeOfDelivery(due)).toEqual(['CONTRACT_PAUSED']);
  await sql`update webhook_deliveries set status = 'DELIVERED' where id = ${due[0]!.id}`;
  const next = (await listDueWebhookDeliveries(sql, endpointId, 50)).filter((row) => row.orderingKey === 'V-ORDER');
  expect(await typeOfDelivery(next)).toEqual(['CONTRACT_RESUMED']);
});

async function typeOfDelivery(rows: { id: string }[]): Promise<string[]> {
  if (rows.length === 0) return [];
  return (await sql<{ type: string }[]>`
    select e.event_type as type from webhook_deliveries d join webhook_events e on e.id = d.event_id
    where d.id in ${sql(rows.map((row) => row.id))} order by d.id`).map((row) => row.type);
}
