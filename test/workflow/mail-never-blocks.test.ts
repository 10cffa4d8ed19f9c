import net from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import { addDays } from '../../billing/calendar';
import { createActivities } from '../../activities';
import { createLogger } from '../../config/logger';
import { readBusinessFigures } from '../../db/queries/metrics';
import { createMailer, type Mailer } from '../../mail/mailer';
import { listMailLog } from '../../operations/mail-log';
import type { contractWorkflow } from '../../workflows/contract-workflow';
import { contractStateQuery, interimInvoiceUpdate, resendMailUpdate } from '../../workflows/definitions';
import { insertActivities } from '../../db/queries/billing';
import { invoicesOf, seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { checkBookInvariants } from '../../dev/book-invariants';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { waitFor } from '../support/wait';
import { useWorkflowHarness, type WorkflowHarness } from '../support/workflow-harness';

/*
 * A mail never holds up billing. The mails go through a real SMTP peer (dev/smtp-peer.ts) with nodemailer, as
 * in production: a mailbox that answers 550 is recorded FAILED and not retried, an SMTP server that is down is
 * retried with backoff while the contract goes on billing and continuing as new, and a command that pauses the
 * contract does not wait for the operator's alert.
 */

jest.setTimeout(240_000);

const currentHarness = useWorkflowHarness(async (harness) => {
  expect(await checkBookInvariants(harness.sql)).toEqual([]);
});
let harness: WorkflowHarness;
let smtp: Awaited<ReturnType<typeof startSmtpPeer>> | undefined;
beforeEach(() => {
  harness = currentHarness();
});
afterEach(async () => {
  await smtp?.stop();
  smtp = undefined;
});

/** The real activities with mail through `mailer`. */
function activitiesMailingThrough(mailer: Mailer) {
  return createActivities({ sql: harness.sql, mailer, config: harness.config, logger: createLogger({ level: 'error', name: 'test' }) });
}

/** A loopback port nobody listens on: an SMTP server that is down. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What the Temporal UI shows as the workflow's current details. */
async function currentDetails(handle: WorkflowHandle<typeof contractWorkflow>): Promise<string> {
  return (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
}

async function mailOf(businessKey: string) {
  const [row] = await listMailLog({ sql: harness.sql }, harness.projectId, { businessKey }, { afterId: null, limit: 10 });
  return row;
}

function deliveriesOf(invoiceNumber: string): number {
  return smtp!.received.filter((mail) => mail.raw.includes(`Ihre Rechnung ${invoiceNumber}`)).length;
}

async function weeklyContract(options: { creditLimit?: string; unit?: 'WEEK' | 'DAY' } = {}) {
  const unit = options.unit ?? 'WEEK';
  const today = await harness.today();
  const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber: `MAIL-${unit}`, unit, prices: [{ price: '7.00' }] });
  const customer = await seedCustomerWithAccount(harness.sql, harness.projectId, options.creditLimit ? { creditLimit: options.creditLimit } : {});
  const contract = await seedContract(harness.sql, harness.projectId, { customer, startDate: today, interval: { count: 1, unit }, invoiceInAdvance: true, items: [{ itemId }] });
  return { today, itemId, customer, contract };
}

test('an invoice mail refused with 550 is FAILED with the reply and not retried, billing goes on, the failure shows in the state, the UI and the metrics, and resendMail sends it once', async () => {
  smtp = await startSmtpPeer({ rejectFirst: 1, rejectAt: 'RCPT', rejectCode: 550, rejectMessage: '5.1.1 mailbox unavailable' });
  const { today, contract } = await weeklyContract();
  const activities = activitiesMailingThrough(createMailer({ ...harness.config.mail, smtpUrl: smtp.url }));

  await harness.withWorker(
    async () => {
      const handle = await harness.startContract(contract);
      const [first] = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
      const refused = await waitFor(() => mailOf(first!.invoiceNumber), (row) => row?.status === 'FAILED');
      expect(refused).toMatchObject({ kind: 'INVOICE', status: 'FAILED', attempts: 1, sentAt: null });
      expect(refused!.error).toContain('550');
      expect(refused!.error).toContain('mailbox unavailable');
      const failedMail = { kind: 'INVOICE', businessKey: first!.invoiceNumber, outcome: 'REFUSED' };
      await waitFor(() => handle.query(contractStateQuery), (state) => state.failedMails?.length === 1);
      expect((await handle.query(contractStateQuery)).failedMails).toEqual([failedMail]);
      expect(await currentDetails(handle)).toContain(`Failed mails: ${first!.invoiceNumber} (REFUSED)`);
      expect((await readBusinessFigures(harness.sql)).failedMails).toEqual([{ kind: 'INVOICE', count: 1 }]);

      // two weeks later: both billing runs done, their mails sent, the refused one never tried again
      await harness.advancePast(addDays(today, 14));
      const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 3);
      for (const invoice of invoices.slice(1)) await waitFor(() => mailOf(invoice.invoiceNumber), (row) => row?.status === 'SENT');
      expect(await mailOf(first!.invoiceNumber)).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect(smtp!.rejected()).toBe(1);
      expect(deliveriesOf(first!.invoiceNumber)).toBe(0);
      const state = await handle.query(contractStateQuery);
      expect(state).toMatchObject({ billingRuns: 3, lastInvoiceNumber: invoices[2]!.invoiceNumber, failedMails: [failedMail] });
      expect(await currentDetails(handle)).toContain(`Failed mails: ${first!.invoiceNumber} (REFUSED)`);

      // the mailbox works again: the operator sends the mail once more
      expect(await handle.executeUpdate(resendMailUpdate, { args: [{ invoiceNumber: first!.invoiceNumber }], updateId: 'resend-1' })).toEqual({
        invoiceNumber: first!.invoiceNumber,
        status: 'QUEUED',
      });
      await waitFor(() => mailOf(first!.invoiceNumber), (row) => row?.status === 'SENT');
      expect(await mailOf(first!.invoiceNumber)).toMatchObject({ status: 'SENT', attempts: 2, error: null });
      await waitFor(() => handle.query(contractStateQuery), (value) => value.failedMails?.length === 0);
      expect(await currentDetails(handle)).not.toContain('Failed mails');
      expect((await readBusinessFigures(harness.sql)).failedMails).toEqual([]);

      // a mail the server has is not sent again
      await handle.executeUpdate(resendMailUpdate, { args: [{ invoiceNumber: first!.invoiceNumber }], updateId: 'resend-2' });
      await waitFor(() => mailOf(first!.invoiceNumber), (row) => row?.attempts === 3);
      expect(await mailOf(first!.invoiceNumber)).toMatchObject({ status: 'SENT' });
      expect(deliveriesOf(first!.invoiceNumber)).toBe(1);
      for (const invoice of invoices) expect(deliveriesOf(invoice.invoiceNumber)).toBe(1);
      await harness.finish(handle);
    },
    () => activities,
  );
});

test('while the SMTP server is down the contract goes on billing and continuing as new with its mails queued, and once it is back every mail goes out once', async () => {
  smtp = await startSmtpPeer();
  const down = createMailer({ ...harness.config.mail, smtpUrl: `smtp://127.0.0.1:${await closedPort()}` });
  const up = createMailer({ ...harness.config.mail, smtpUrl: smtp.url });
  let serverUp = false;
  const activities = activitiesMailingThrough({ send: (mail) => (serverUp ? up : down).send(mail) });
  const { today, contract } = await weeklyContract({ unit: 'DAY' });

  await harness.withWorker(
    async () => {
      const handle = await harness.startContract(contract);
      const firstRun = handle.firstExecutionRunId;
      const [first] = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
      const failing = await waitFor(() => mailOf(first!.invoiceNumber), (row) => row?.status === 'FAILED');
      expect(failing!.error).toContain('ECONNREFUSED');

      // two days on: two more billing runs, each followed by continue-as-new, while the mails wait
      await harness.advancePast(addDays(today, 2));
      const invoices = await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 3);
      const state = await waitFor(() => handle.query(contractStateQuery), (value) => value.billingRuns === 3);
      expect(state.lastInvoiceNumber).toBe(invoices[2]!.invoiceNumber);
      expect((await handle.describe()).runId).not.toBe(firstRun);
      const details = await currentDetails(handle);
      expect(details).toContain(`Mails waiting: 3 (next: ${first!.invoiceNumber})`);
      expect(details).toMatch(/Mail not sent yet, attempt \d+ failed: .*ECONNREFUSED/);
      // one mail at a time: the oldest is retried with backoff, the others wait behind it
      expect(await mailOf(first!.invoiceNumber)).toMatchObject({ status: 'FAILED', attempts: expect.any(Number) });
      expect((await mailOf(first!.invoiceNumber))!.attempts).toBeGreaterThan(3);
      for (const invoice of invoices.slice(1)) expect(await mailOf(invoice.invoiceNumber)).toBeUndefined();

      // the server is back: within the longest backoff every mail is delivered, each once
      serverUp = true;
      await harness.env.sleep(31 * 60_000);
      for (const invoice of invoices) await waitFor(() => mailOf(invoice.invoiceNumber), (row) => row?.status === 'SENT');
      for (const invoice of invoices) expect(deliveriesOf(invoice.invoiceNumber)).toBe(1);
      await waitFor(() => currentDetails(handle), (details) => !details.includes('Mail not sent yet') && !details.includes('Mails waiting'));
      await harness.finish(handle);
    },
    () => activities,
  );
});

test('a command that pauses the contract at its credit limit answers at once while the SMTP server is down; the operator alert waits in the queue', async () => {
  smtp = await startSmtpPeer();
  const down = createMailer({ ...harness.config.mail, smtpUrl: `smtp://127.0.0.1:${await closedPort()}` });
  const up = createMailer({ ...harness.config.mail, smtpUrl: smtp.url });
  let serverUp = false;
  const activities = activitiesMailingThrough({ send: (mail) => (serverUp ? up : down).send(mail) });
  // 7.00 a week, 8.33 with tax; a manual activity of 10.00 more breaks the limit of 15
  const { today, contract } = await weeklyContract({ creditLimit: '15.00' });

  await harness.withWorker(
    async () => {
      const handle = await harness.startContract(contract);
      await waitFor(() => invoicesOf(harness.sql, contract.contractId), (rows) => rows.length === 1);
      await insertActivities(harness.sql, contract.contractId, [
        {
          key: 'manual:over-limit',
          itemNumber: 'MAIL-WEEK',
          description: 'Einrichtung',
          quantity: '1',
          unitPrice: '10.00',
          amount: '10.00',
          periodStart: today,
          periodEnd: addDays(today, 1),
          origin: 'MANUAL',
          dueDate: today,
          tax: { category: 'STANDARD', rate: '19', notice: null },
          correctsKey: null,
        },
      ]);
      const answered = await Promise.race([
        handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId: 'interim-over-limit' }),
        new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), 20_000)),
      ]);
      expect(answered).toEqual({ invoiceNumber: null });
      const paused = await handle.query(contractStateQuery);
      expect(paused).toMatchObject({ status: 'PAUSED', pauseReason: 'CREDIT_LIMIT' });
      const alertKey = `${contract.contractNumber}:${today}`;
      await waitFor(() => currentDetails(handle), (details) => details.includes('Mails waiting: 2'));

      serverUp = true;
      await harness.env.sleep(31 * 60_000);
      const alert = await waitFor(() => mailOf(alertKey), (row) => row?.status === 'SENT');
      expect(alert).toMatchObject({ kind: 'CREDIT_LIMIT_PAUSE', recipient: harness.config.mail.operatorEmail });
      expect(smtp!.received.filter((mail) => mail.raw.includes('Abrechnung pausiert'))).toHaveLength(1);
      await harness.finish(handle);
    },
    () => activities,
  );
});
