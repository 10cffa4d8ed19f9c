import fs from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities';
import { addDays, billingInstant } from '../../billing/calendar';
import { createLogger } from '../../config/logger';
import { createMailer, type Mailer } from '../../mail/mailer';
import { getDunningConfiguration, replaceDunningConfiguration, dunInvoice, stopDunning } from '../../operations/dunning';
import {
  accountChangedSignal,
  cancelInvoiceUpdate,
  changeSubscriptionUpdate,
  contractStateQuery,
  dunningChangedSignal,
  interimInvoiceUpdate,
  pauseUpdate,
  rebillUpdate,
  resendMailUpdate,
  terminateUpdate,
} from '../../workflows/definitions';
import { seedContract, seedCustomerWithAccount, seedItem } from '../../dev/seed';
import { startSmtpPeer } from '../../dev/smtp-peer';
import { waitFor } from '../support/wait';
import { startWorkflowHarness } from '../support/workflow-harness';

/**
 * `npx tsx test/replay/record-histories.ts <name>`: runs a contract workflow through every handler on the
 * time-skipping server and saves every run's history under histories/ as `<name>-run-NN.binpb` (binary
 * protobuf, as fetched): billing runs, a subscription change, a delivery pause, an interim invoice, a resent
 * mail, a storno, a re-billing, a dunning pause and its release, a credit-limit pause with the operator's alert and its resumption on a
 * payment, a pause for a billing error (no price) with the operator's alert and its resumption, a command repeated under its update id after continue-as-new, a termination to the end. The mails
 * go to a real SMTP peer; the first is refused for good (550) and one is refused once for the time being
 * (451), so the mail queue's failure and backoff are in the histories too. Record a new set under a new name
 * when a change guarded with patched() alters the commands a workflow issues: the earlier sets keep proving
 * that contracts started by earlier versions replay (they were recorded by earlier versions of this scenario).
 */
async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9-]+$/.test(name)) throw new Error('give the set a name of lower-case letters, digits and dashes, e.g. commands-local');
  const harness = await startWorkflowHarness();
  const smtp = await startSmtpPeer();
  const out = path.join(__dirname, 'histories');
  try {
    const today = await harness.today();
    const advance = async (days: number) => {
      const target = billingInstant(addDays(today, days), 'Europe/Berlin') + 2 * 3_600_000;
      const now = await harness.env.currentTimeMs();
      if (target > now) await harness.env.sleep(target - now);
    };
    const itemId = await seedItem(harness.sql, harness.projectId, { itemNumber: 'REPLAY', unit: 'WEEK', prices: [{ price: '7.00' }] });
    const customer = await seedCustomerWithAccount(harness.sql, harness.projectId, { creditLimit: '20.00' });
    const contract = await seedContract(harness.sql, harness.projectId, {
      customer,
      startDate: addDays(today, -3),
      interval: { count: 1, unit: 'WEEK' },
      noticePeriod: { count: 1, unit: 'WEEK' },
      items: [{ itemId }],
    });
    // the first mail is refused for good, the second once for the time being (nodemailer's errors carry the reply code)
    const peer = createMailer({ ...harness.config.mail, smtpUrl: smtp.url });
    let sends = 0;
    const mailer: Mailer = {
      send(mail) {
        sends += 1;
        if (sends === 1) return Promise.reject(Object.assign(new Error("Can't send mail - all recipients were rejected: 550 5.1.1 mailbox unavailable"), { responseCode: 550 }));
        if (sends === 2) return Promise.reject(Object.assign(new Error('Message failed: 451 4.3.2 try again later'), { responseCode: 451 }));
        return peer.send(mail);
      },
    };
    const activities = createActivities({ sql: harness.sql, mailer, config: harness.config, logger: createLogger({ level: 'error', name: 'record' }) });
    const mailsNotSent = async () =>
      (await harness.sql<{ n: number }[]>`select count(*)::int as n from mail_log where status <> 'SENT' and project_id = ${harness.projectId}`)[0]!.n;

    await harness.withWorker(async () => {
      const handle = await harness.startContract(contract);
      const state = () => handle.query(contractStateQuery);
      const first = await waitFor(state, (value) => value.billingRuns === 1 && value.failedMails?.length === 1);

      await handle.executeUpdate(changeSubscriptionUpdate, { args: [{ effectiveDate: addDays(today, 1), items: [{ itemNumber: 'REPLAY', quantity: '2' }] }], updateId: 'change-1' });
      await handle.executeUpdate(pauseUpdate, { args: [{ from: addDays(today, 10), until: addDays(today, 17) }], updateId: 'pause-1' });
      const interim = await handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId: 'interim-1' });
      await handle.executeUpdate(resendMailUpdate, { args: [{ invoiceNumber: first.lastInvoiceNumber! }], updateId: 'resend-1' });
      // the 451 is retried after a backoff of 10 s
      await harness.env.sleep(15_000);
      await waitFor(mailsNotSent, (count) => count === 0);
      if (interim.invoiceNumber) await handle.executeUpdate(cancelInvoiceUpdate, { args: [{ invoiceNumber: interim.invoiceNumber, reason: 'Probe' }], updateId: 'storno-1' });
      await handle.executeUpdate(rebillUpdate, { args: [{ from: addDays(today, -3) }], updateId: 'rebill-1' });

      // an open invoice reaches a dunning level that pauses contracts: paused for dunning, an interim invoice
      // meanwhile keeps the pause, and the stop of the dunning releases the contract, which bills at once
      const logger = createLogger({ level: 'error', name: 'record' });
      const defaults = await getDunningConfiguration({ sql: harness.sql }, harness.projectId);
      await replaceDunningConfiguration({ sql: harness.sql }, harness.projectId, { ...defaults, pauseFromLevel: 1 });
      const [open] = await harness.sql<{ id: string; invoiceNumber: string }[]>`
        select id, invoice_number as "invoiceNumber" from invoices
        where contract_id = ${contract.contractId} and status in ('OPEN', 'PARTIAL') order by id limit 1`;
      if (!open) throw new Error('no open invoice to dun');
      await dunInvoice({ sql: harness.sql, logger }, { invoiceId: open.id, level: 1, today });
      await handle.signal(dunningChangedSignal);
      await waitFor(state, (value) => value.pauseReason === 'DUNNING');
      await handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId: 'interim-dunning' });
      await waitFor(state, (value) => value.pauseReason === 'DUNNING');
      const pausedRun = (await handle.describe()).runId;
      await stopDunning({ sql: harness.sql, temporal: harness.env.client, logger }, harness.projectId, open.invoiceNumber);
      await handle.signal(dunningChangedSignal);
      // released, the contract bills at once and continues as new: queries wait for the next run
      await waitFor(() => handle.describe(), (description) => description.runId !== pausedRun);
      await waitFor(state, (value) => value.status === 'ACTIVE' && value.pauseReason === null);

      // the next billing run breaks the credit limit: paused, the operator alerted, continued as new
      const firstRun = (await handle.describe()).runId;
      await advance(5);
      await waitFor(state, (value) => value.status === 'PAUSED');
      await waitFor(() => handle.describe(), (description) => description.runId !== firstRun);
      // a client repeating a command after continue-as-new gets the carried answer
      await handle.executeUpdate(interimInvoiceUpdate, { args: [], updateId: 'interim-1' });

      await harness.sql`
        insert into ledger_entries (account_id, entry_type, amount, booking_date, text, business_key)
        values (${customer.accountId}, 'CREDIT', '100.00', ${today}, 'Gutschrift', 'replay-credit')`;
      await handle.signal(accountChangedSignal);
      await waitFor(state, (value) => value.status === 'ACTIVE');
      await waitFor(mailsNotSent, (count) => count === 0);

      // the item loses its price behind the engine's back: the next billing run pauses the contract for the
      // billing error and alerts the operator; fixed and resumed, it bills again
      await harness.sql`update item_prices set currency = 'USD' where item_id = ${itemId}`;
      await advance(12);
      await waitFor(state, (value) => value.pauseReason === 'NO_PRICE_FOUND');
      await waitFor(mailsNotSent, (count) => count === 0);
      await harness.sql`update item_prices set currency = 'EUR' where item_id = ${itemId}`;
      await handle.signal(accountChangedSignal);
      await waitFor(state, (value) => value.status === 'ACTIVE' && value.pauseReason === null);
      await waitFor(mailsNotSent, (count) => count === 0);

      const termination = await handle.executeUpdate(terminateUpdate, { args: [{}], updateId: 'terminate-1' });
      await advance(Math.round((Date.parse(termination.endDate) - Date.parse(today)) / 86_400_000) + 1);
      const final = await handle.result();
      if (final.status !== 'ENDED') throw new Error(`the contract did not end: ${JSON.stringify(final)}`);

      await fs.mkdir(out, { recursive: true });
      // the time-skipping server cannot list runs: walk the continue-as-new chain back from the latest run
      const histories = [];
      for (let runId: string | undefined = undefined; ; ) {
        const history: temporal.api.history.v1.IHistory = await harness.env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
        histories.unshift(history);
        const previous: string | null | undefined = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        if (!previous) break;
        runId = previous;
      }
      let index = 0;
      for (const history of histories) {
        index += 1;
        await fs.writeFile(path.join(out, `${name}-run-${String(index).padStart(2, '0')}.binpb`), temporal.api.history.v1.History.encode(history).finish());
      }
      console.log(`saved ${index} histories to ${out}`);
    }, () => activities);
  } finally {
    await smtp.stop();
    await harness.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
