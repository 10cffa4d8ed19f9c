import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { addDays } from '../billing/calendar';
import {
  DEFAULT_DUNNING,
  DUNNING_LEVEL_TITLES,
  defaultInterest,
  dunningLevelProblems,
  levelPausesContracts,
  nextDunningStep,
  type DunningConfiguration,
} from '../billing/dunning';
import { decimal } from '../billing/money';
import type { IsoDate } from '../billing/types';
import type { Logger } from '../config/logger';
import type { Queryable, Sql } from '../db/client';
import { findCompanyDetails } from '../db/queries/company';
import { lockContract, recordDunningPause } from '../db/queries/contracts';
import {
  findAccountOfContract,
  findDunnedInvoice,
  findDunnedInvoiceByNumber,
  findDunningLevels,
  findDunningNotice,
  findDunningSettings,
  findLastDunningNotice,
  insertDunningNotice,
  isAccountBlockedByDunning,
  ledgerTextsOf,
  listDunningNotices as listDunningNoticeRows,
  listInvoicesAwaitingDunning,
  recordDunningEnded,
  recordDunningStarted,
  recordDunningStopped,
  saveDunningLevels,
  type DunnedInvoice,
  type DunningNotice,
  type OpenItemOnNotice,
} from '../db/queries/dunning';
import { bookLedgerEntry } from '../db/queries/ledger';
import { recordUnsendableMail } from '../db/queries/mail-log';
import { invoiceOpenAmounts, lockAccount, openItemsOfAccount, settleAccount } from '../db/queries/open-items';
import { renderDunningPdf } from '../documents/dunning-pdf';
import { germanDate } from '../documents/german-format';
import { textsFor } from '../documents/texts';
import type { Mailer } from '../mail/mailer';
import { DUNNING_WORKFLOW_TYPE, dunningStopSignal, dunningWorkflowId, type DunningEndReason, type DunningWorkflowInput } from '../workflows/dunning-definitions';
import { CustomerNumberKey, DunningLevelKey, InvoiceNumberKey } from '../workflows/search-attributes';
import { loadBuyer } from './documents';
import { contractWorkflowIdsOf } from './contract-workflows';
import { OperationError } from './errors';
import { sendOnce, type MailOutcome } from './mail';

/**
 * Dunning (Mahnwesen), one process per overdue invoice. Per invoice rather than per account: the process
 * starts with the invoice, ends with its payment or storno, and is stopped by the invoice's own command
 * (`POST /Invoices/{n}/dunning/stop`), so its life is the invoice's; and the fee of a level is booked once per
 * invoice and level. Each letter still lists every open item of the account, so the customer sees everything
 * owed on one page.
 */

/** The mail log's kind of a dunning letter; its business key is `<invoiceNumber>:<level>`. */
export const DUNNING_MAIL_KIND = 'DUNNING';

// ---- configuration ------------------------------------------------------------------------------------------

export async function getDunningConfiguration(deps: { sql: Queryable }, projectId: string): Promise<DunningConfiguration> {
  const [levels, settings] = await Promise.all([findDunningLevels(deps.sql, projectId), findDunningSettings(deps.sql, projectId)]);
  return {
    levels: levels.length === 0 ? DEFAULT_DUNNING.levels : levels.map((level) => ({ ...level, fee: decimal(level.fee).toFixed(2) })),
    pauseFromLevel: settings === undefined ? DEFAULT_DUNNING.pauseFromLevel : settings.pauseFromLevel,
    defaultInterest:
      settings === undefined ? DEFAULT_DUNNING.defaultInterest : { enabled: settings.interestEnabled, baseRate: decimal(settings.interestBaseRate).toFixed() },
  };
}

/**
 * Replaces the project's levels (all three, in order, each later than the one before), the pausing level and
 * the default interest (off when not given).
 */
export async function replaceDunningConfiguration(
  deps: { sql: Sql },
  projectId: string,
  configuration: Omit<DunningConfiguration, 'defaultInterest'> & { defaultInterest?: DunningConfiguration['defaultInterest'] },
): Promise<DunningConfiguration> {
  const interest = configuration.defaultInterest ?? DEFAULT_DUNNING.defaultInterest;
  const problems = dunningLevelProblems({ ...configuration, defaultInterest: interest });
  if (problems.length > 0) throw OperationError.ofFields('INVALID', 'INCORRECT_INPUT_DATA', 'the dunning levels do not fit together', problems);
  await deps.sql.begin((tx) =>
    saveDunningLevels(tx, projectId, configuration.levels, { pauseFromLevel: configuration.pauseFromLevel, interestEnabled: interest.enabled, interestBaseRate: interest.baseRate }),
  );
  return getDunningConfiguration(deps, projectId);
}

// ---- notices ---------------------------------------------------------------------------------------------------

/** A letter as the API shows it: the notice as recorded, with its level's title. */
export type PublicDunningNotice = Omit<DunningNotice, 'createdAt'> & { title: string };

function publicNotice(notice: DunningNotice): PublicDunningNotice {
  const { createdAt: _createdAt, ...rest } = notice;
  return {
    ...rest,
    title: DUNNING_LEVEL_TITLES[notice.level]!,
    fee: decimal(notice.fee).toFixed(2),
    interest: decimal(notice.interest).toFixed(2),
    totalOpen: decimal(notice.totalOpen).toFixed(2),
  };
}

export async function listDunningNotices(
  deps: { sql: Queryable },
  projectId: string,
  filter: { invoiceNumber?: string; customerNumber?: string },
  page: { afterId: string | null; limit: number },
): Promise<PublicDunningNotice[]> {
  return (await listDunningNoticeRows(deps.sql, projectId, filter, page)).map(publicNotice);
}

// ---- starting and stopping the workflows ------------------------------------------------------------------------

function workflowInput(invoice: DunnedInvoice): DunningWorkflowInput {
  return {
    projectId: invoice.projectId,
    invoiceId: invoice.invoiceId,
    invoiceNumber: invoice.invoiceNumber,
    customerNumber: invoice.customerNumber,
    timeZone: invoice.timeZone,
    dueDate: invoice.dueDate,
  };
}

/**
 * Starts the dunning workflow of an invoice. It sleeps until the next level's day after the due date. A
 * workflow started under the invoice's id before, running or closed, counts as started: an invoice is dunned once.
 */
export async function startDunningWorkflow(deps: { temporal: Client; taskQueue: string }, invoice: DunnedInvoice): Promise<'STARTED' | 'ALREADY_STARTED'> {
  try {
    await deps.temporal.workflow.start(DUNNING_WORKFLOW_TYPE, {
      workflowId: dunningWorkflowId(invoice.invoiceNumber, invoice.projectId, invoice.round),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      taskQueue: deps.taskQueue,
      args: [workflowInput(invoice)],
      typedSearchAttributes: [
        { key: CustomerNumberKey, value: invoice.customerNumber },
        { key: InvoiceNumberKey, value: invoice.invoiceNumber },
        { key: DunningLevelKey, value: 'NONE' },
      ],
      staticSummary: `Dunning of invoice ${invoice.invoiceNumber} of customer ${invoice.customerNumber}`,
    });
    return 'STARTED';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'ALREADY_STARTED';
    throw error;
  }
}

/**
 * The dunning outbox, read by the worker's reconciler: every overdue open invoice without a dunning process gets
 * its workflow, oldest first (`limit` at most). An invoice is issued in a billing transaction that cannot reach
 * Temporal; the overdue open invoice itself is the outbox row, and the process row written after the start is
 * its mark. A crash between the two starts nothing twice: the next round finds the workflow by its id and marks
 * it. Only overdue invoices: most are paid in time and never need a workflow. `today` (a test's clock) replaces
 * today in each project's time zone.
 */
export async function startPendingDunningWorkflows(
  deps: { sql: Sql; temporal: Client; taskQueue: string; logger: Logger },
  options: { limit: number; today?: IsoDate },
): Promise<{ started: number; alreadyStarted: number; failed: number }> {
  const round = { started: 0, alreadyStarted: 0, failed: 0 };
  for (const invoice of await listInvoicesAwaitingDunning(deps.sql, { limit: options.limit, today: options.today ?? null })) {
    const workflowId = dunningWorkflowId(invoice.invoiceNumber, invoice.projectId, invoice.round);
    try {
      const outcome = await startDunningWorkflow(deps, invoice);
      await recordDunningStarted(deps.sql, { invoiceId: invoice.invoiceId, projectId: invoice.projectId, workflowId, round: invoice.round });
      round[outcome === 'STARTED' ? 'started' : 'alreadyStarted'] += 1;
    } catch (error) {
      round.failed += 1;
      deps.logger.warn({ invoiceNumber: invoice.invoiceNumber, workflowId, error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'dunning workflow not started; the next round tries again');
      break;
    }
  }
  return round;
}

export interface StopDunningResult {
  invoiceNumber: string;
  status: 'STOPPED';
  stoppedAt: string;
  /** The last level sent before the stop: 0 none. */
  level: number;
}

/**
 * The operator stops an invoice's dunning. The stop is written to the books first (the workflow reads it on
 * every look at the invoice), then the workflow is told. A repeated stop answers the same and changes nothing.
 */
export async function stopDunning(deps: { sql: Sql; temporal: Client; logger: Logger }, projectId: string, invoiceNumber: string): Promise<StopDunningResult> {
  const invoice = await findDunnedInvoiceByNumber(deps.sql, projectId, invoiceNumber);
  if (!invoice) throw OperationError.notFound(`invoice ${invoiceNumber}`);
  const stopped = await recordDunningStopped(deps.sql, { invoiceId: invoice.invoiceId, projectId, workflowId: dunningWorkflowId(invoiceNumber, projectId) });
  const workflowId = stopped.workflowId;
  try {
    await deps.temporal.workflow.getHandle(workflowId).signal(dunningStopSignal);
  } catch (error) {
    // no workflow (never started, or ended): the stop in the books is all there is to do
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  const last = await findLastDunningNotice(deps.sql, invoice.invoiceId);
  deps.logger.info({ invoiceNumber, workflowId }, 'dunning stopped');
  return { invoiceNumber, status: 'STOPPED', stoppedAt: stopped.stoppedAt.toISOString(), level: last?.level ?? 0 };
}

// ---- what the dunning workflow does ------------------------------------------------------------------------------

export type DunningLook =
  | { outcome: 'ENDED'; reason: DunningEndReason; level: number; contractWorkflowIds: string[] }
  | { outcome: 'NEXT'; level: number; nextLevel: number; dunOn: IsoDate }
  /** Every level was sent: the invoice is watched until it is paid, cancelled or the dunning stopped. */
  | { outcome: 'LAST_SENT'; level: number };

/** Why the invoice needs no dunning (any more), or null while something of it is open. */
async function endReasonOf(sql: Queryable, invoice: DunnedInvoice): Promise<DunningEndReason | null> {
  if (invoice.stopped) return 'STOPPED';
  if (invoice.status === 'CANCELLED') return 'CANCELLED';
  const open = (await invoiceOpenAmounts(sql, [invoice.invoiceId])).get(invoice.invoiceId) ?? '0';
  return decimal(open).gt(0) ? null : 'PAID';
}

/**
 * Looks at the invoice: ended (paid, cancelled, stopped; recorded once, with the contracts to release when a
 * letter of it paused them), or the next level and its day.
 */
export async function lookAtDunnedInvoice(deps: { sql: Sql }, request: { invoiceId: string }): Promise<DunningLook> {
  const invoice = await findDunnedInvoice(deps.sql, request.invoiceId);
  if (!invoice) throw OperationError.notFound(`invoice ${request.invoiceId}`);
  const last = await findLastDunningNotice(deps.sql, invoice.invoiceId);
  const level = last?.level ?? 0;
  const reason = await endReasonOf(deps.sql, invoice);
  if (reason !== null) {
    await recordDunningEnded(deps.sql, invoice.invoiceId, reason);
    const paused = last?.pausesContracts === true;
    return { outcome: 'ENDED', reason, level, contractWorkflowIds: paused ? await contractWorkflowIdsOf(deps.sql, invoice.accountId) : [] };
  }
  const configuration = await getDunningConfiguration(deps, invoice.projectId);
  const step = nextDunningStep(configuration.levels, invoice.dueDate, last ? { level: last.level, noticeDate: last.noticeDate } : null);
  if (!step) return { outcome: 'LAST_SENT', level };
  return { outcome: 'NEXT', level, nextLevel: step.level.level, dunOn: step.dunOn };
}

export type DunningStepResult =
  | { outcome: 'ENDED'; reason: DunningEndReason; level: number; contractWorkflowIds: string[] }
  | { outcome: 'SENT'; level: number; noticeDate: IsoDate; pausesContracts: boolean; contractWorkflowIds: string[] };

const OPEN_ITEM_LABELS: Readonly<Record<string, string>> = { FEE: 'Gebühr', DEBIT: 'Belastung', RETURN: 'Rücklastschrift' };

/**
 * One letter of the invoice's dunning, in one transaction under the account's lock: unless the invoice is paid,
 * cancelled or its dunning stopped meanwhile, books the level's fee (FEE, business key
 * `dunning-fee:<invoice>:<level>`), settles the account (credit on it pays the fee), and records the letter
 * with the account's open items due by today. A repeat finds the letter and books nothing.
 */
export async function dunInvoice(deps: { sql: Sql; logger: Logger }, request: { invoiceId: string; level: number; today: IsoDate }): Promise<DunningStepResult> {
  const result = await deps.sql.begin(async (tx): Promise<DunningStepResult> => {
    const found = await findDunnedInvoice(tx, request.invoiceId);
    if (!found) throw OperationError.notFound(`invoice ${request.invoiceId}`);
    await lockAccount(tx, found.accountId);
    const invoice = (await findDunnedInvoice(tx, request.invoiceId))!;
    const earlier = await findDunningNotice(tx, invoice.invoiceId, request.level);
    if (earlier) {
      return {
        outcome: 'SENT',
        level: earlier.level,
        noticeDate: earlier.noticeDate,
        pausesContracts: earlier.pausesContracts,
        contractWorkflowIds: earlier.pausesContracts ? await contractWorkflowIdsOf(tx, invoice.accountId) : [],
      };
    }
    const last = await findLastDunningNotice(tx, invoice.invoiceId);
    const reason = await endReasonOf(tx, invoice);
    if (reason !== null) {
      await recordDunningEnded(tx, invoice.invoiceId, reason);
      return { outcome: 'ENDED', reason, level: last?.level ?? 0, contractWorkflowIds: last?.pausesContracts ? await contractWorkflowIdsOf(tx, invoice.accountId) : [] };
    }
    const configuration = await getDunningConfiguration({ sql: tx }, invoice.projectId);
    const level = configuration.levels.find((candidate) => candidate.level === request.level);
    if (!level) throw OperationError.invalid('level', `the project has no dunning level ${request.level}`);
    const title = DUNNING_LEVEL_TITLES[level.level]!;

    let feeEntryId: string | null = null;
    if (decimal(level.fee).gt(0)) {
      const booked = await bookLedgerEntry(tx, {
        accountId: invoice.accountId,
        type: 'FEE',
        amount: decimal(level.fee).negated().toFixed(),
        bookingDate: request.today,
        text: `Mahngebühr ${title} zu Rechnung ${invoice.invoiceNumber}`,
        businessKey: `dunning-fee:${invoice.invoiceNumber}:${level.level}`,
      });
      feeEntryId = booked.entry.id;
    }
    // default interest on what is open of the invoice, since the due date or the last letter
    let interest = '0.00';
    let interestEntryId: string | null = null;
    if (configuration.defaultInterest.enabled) {
      const open = (await invoiceOpenAmounts(tx, [invoice.invoiceId])).get(invoice.invoiceId) ?? '0';
      const from = last ? last.noticeDate : invoice.dueDate;
      const accrued = defaultInterest({ open, baseRate: configuration.defaultInterest.baseRate, business: invoice.business, from, to: request.today, currency: invoice.currency });
      if (decimal(accrued.amount).gt(0)) {
        interest = accrued.amount;
        const booked = await bookLedgerEntry(tx, {
          accountId: invoice.accountId,
          type: 'FEE',
          amount: decimal(accrued.amount).negated().toFixed(),
          bookingDate: request.today,
          text: `Verzugszinsen ${germanRate(accrued.rate)} % p. a. vom ${germanDate(from)} bis ${germanDate(request.today)} zu Rechnung ${invoice.invoiceNumber}`,
          businessKey: `dunning-interest:${invoice.invoiceNumber}:${level.level}`,
        });
        interestEntryId = booked.entry.id;
      }
    }
    if (feeEntryId !== null || interestEntryId !== null) await settleAccount(tx, invoice.accountId, request.today);

    // what is due by today: an invoice not yet due is no reason for a dunning and stays off the letter
    const items = (await openItemsOfAccount(tx, invoice.accountId)).filter((item) => item.dueDate <= request.today);
    const texts = await ledgerTextsOf(tx, items.filter((item) => item.invoiceNumber === null).map((item) => item.entryId));
    const openItems: OpenItemOnNotice[] = items.map((item) => ({
      label: item.invoiceNumber ? `Rechnung ${item.invoiceNumber}` : (texts.get(item.entryId) ?? OPEN_ITEM_LABELS[item.type] ?? item.type),
      invoiceNumber: item.invoiceNumber,
      type: item.type,
      dueDate: item.dueDate,
      amount: decimal(item.amount).toFixed(2),
      open: decimal(item.open).toFixed(2),
    }));
    const totalOpen = items.reduce((sum, item) => sum.plus(decimal(item.open)), decimal('0')).toFixed();
    const pausesContracts = levelPausesContracts(configuration, level.level);
    await insertDunningNotice(tx, {
      projectId: invoice.projectId,
      invoiceId: invoice.invoiceId,
      accountId: invoice.accountId,
      level: level.level,
      noticeDate: request.today,
      fee: level.fee,
      feeEntryId,
      interest,
      interestEntryId,
      deadlineDate: addDays(request.today, level.deadlineDays),
      openItems,
      totalOpen,
      pausesContracts,
    });
    return {
      outcome: 'SENT',
      level: level.level,
      noticeDate: request.today,
      pausesContracts,
      contractWorkflowIds: pausesContracts ? await contractWorkflowIdsOf(tx, invoice.accountId) : [],
    };
  });
  deps.logger.info({ invoiceId: request.invoiceId, level: request.level, outcome: result.outcome }, 'dunning step');
  return result;
}

/** The letter of one level as PDF, from the notice as recorded; null without the project's company details. */
export async function renderDunningLetter(deps: { sql: Queryable }, invoice: DunnedInvoice, notice: DunningNotice): Promise<Buffer | null> {
  const company = await findCompanyDetails(deps.sql, invoice.projectId);
  if (!company) return null;
  const configuration = await getDunningConfiguration(deps, invoice.projectId);
  const level = configuration.levels.find((candidate) => candidate.level === notice.level);
  const customer = await loadBuyer(deps.sql, invoice.projectId, invoice.customerNumber);
  return renderDunningPdf({
    level: notice.level,
    language: customer.language,
    noticeDate: notice.noticeDate,
    invoiceNumber: invoice.invoiceNumber,
    customerNumber: invoice.customerNumber,
    currency: invoice.currency,
    seller: company,
    buyer: customer,
    text: level?.text ?? '',
    openItems: notice.openItems,
    fee: notice.fee,
    interest: notice.interest,
    totalOpen: notice.totalOpen,
    deadlineDays: level?.deadlineDays ?? Math.round((Date.parse(notice.deadlineDate) - Date.parse(notice.noticeDate)) / 86_400_000),
    deadlineDate: notice.deadlineDate,
    pausesContracts: notice.pausesContracts,
  });
}

/**
 * Mails the letter of one level to the customer, once (mail log kind DUNNING, key `<invoice>:<level>`), with
 * the letter as PDF. Outcomes as for invoice mails: a refusal for good or a missing address is final, anything
 * else is thrown and retried.
 */
export async function sendDunningMail(deps: { sql: Sql; mailer: Mailer; logger: Logger }, request: { invoiceId: string; level: number }): Promise<MailOutcome> {
  const invoice = await findDunnedInvoice(deps.sql, request.invoiceId);
  const notice = invoice && (await findDunningNotice(deps.sql, invoice.invoiceId, request.level));
  if (!invoice || !notice) throw new Error(`no dunning letter of level ${request.level} for invoice ${request.invoiceId}`);
  const businessKey = `${invoice.invoiceNumber}:${notice.level}`;
  const customer = await loadBuyer(deps.sql, invoice.projectId, invoice.customerNumber);
  const { dunning, dunningMail: texts, format } = textsFor(customer.language);
  const title = dunning.title(notice.level);
  const subject = texts.subject(title, invoice.invoiceNumber);
  if (!customer.email) {
    await recordUnsendableMail(deps.sql, { projectId: invoice.projectId, kind: DUNNING_MAIL_KIND, businessKey, subject, reason: 'customer has no e-mail address' });
    return 'NO_RECIPIENT';
  }
  let pdf: Buffer | null = null;
  try {
    pdf = await renderDunningLetter(deps, invoice, notice);
    if (!pdf) deps.logger.warn({ projectId: invoice.projectId }, 'dunning mail without PDF: the project has no company details (PUT /Company)');
  } catch (error) {
    deps.logger.error({ projectId: invoice.projectId, err: error }, 'dunning mail without PDF: rendering failed');
  }
  const money = (amount: string) => format.money(amount, invoice.currency);
  return sendOnce(deps, { projectId: invoice.projectId, kind: DUNNING_MAIL_KIND, businessKey }, {
    to: customer.email,
    ...(pdf ? { attachments: [{ filename: `${texts.attachmentName(title)}-${invoice.invoiceNumber}.pdf`, content: pdf, contentType: 'application/pdf' }] } : {}),
    subject,
    text: texts.body({
      name: customer.name,
      invoiceNumber: invoice.invoiceNumber,
      dueDate: format.date(invoice.dueDate),
      total: money(notice.totalOpen),
      fee: decimal(notice.fee).gt(0) ? money(notice.fee) : null,
      deadline: format.date(notice.deadlineDate),
    }),
  });
}

/** "10,27" for 10.27. */
function germanRate(rate: string): string {
  return decimal(rate).toFixed(2).replace('.', ',');
}

// ---- the contracts' side -------------------------------------------------------------------------------------------

/**
 * A contract's pause for dunning, as the books say: paused (PAUSED, DUNNING) while an invoice on its account
 * is open at a pausing level and its dunning not stopped, and ACTIVE again when no longer (its next billing run
 * then bills what it missed). Only an ACTIVE or PAUSED contract pauses. Returns the contract's status after.
 */
export async function applyDunningPause(deps: { sql: Sql }, request: { contractId: string }): Promise<{ status: string; pauseReason: string | null }> {
  return deps.sql.begin(async (tx) => {
    await lockContract(tx, request.contractId);
    const accountId = await findAccountOfContract(tx, request.contractId);
    return recordDunningPause(tx, request.contractId, await isAccountBlockedByDunning(tx, accountId));
  });
}
