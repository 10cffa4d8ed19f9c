import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ContractActivities, DunningLook } from '../activities';
import { billingInstant } from '../billing/calendar';
import { DUNNING_LEVEL_TITLES } from '../billing/dunning';
import { calendarDateAt } from '../billing/zoned-date';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './activity-heartbeat';
import { dunningChangedSignal } from './definitions';
import { dunningRecheckSignal, dunningStateQuery, dunningStopSignal, type DunningState, type DunningWorkflowInput } from './dunning-definitions';
import { DunningLevelKey } from './search-attributes';

const books = proxyActivities<ContractActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['INCORRECT_INPUT_DATA', 'NOT_FOUND'] },
});

/** A letter's mail is retried with backoff for about a day, beside the dunning: it never holds up the next level. */
const mail = proxyActivities<ContractActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes', maximumAttempts: 60 },
});

/** After the last level the invoice is looked at again this often, in case no payment signal reaches the workflow. */
const WATCH_AFTER_LAST_LEVEL_MS = 7 * 86_400_000;

/**
 * The dunning of one invoice (Mahnwesen), from its issue until it is paid, cancelled or the operator stops it:
 * sleeps until the due date, then until the next level's day after the due date (00:00 in the project's time zone), looks at the
 * invoice again, and sends the level's letter with its fee; a level from which contracts pause tells the
 * account's contract workflows, and so does the end. A payment (`dunningRecheck`) or a stop (`dunningStop`)
 * wakes it at once. Each letter's mail goes beside the dunning and never holds it up.
 */
export async function dunningWorkflow(input: DunningWorkflowInput): Promise<DunningState> {
  const state: DunningState = {
    invoiceNumber: input.invoiceNumber,
    level: 0,
    nextLevel: null,
    nextLevelOn: null,
    status: 'RUNNING',
    endReason: null,
    failedMails: [],
  };
  let woken = false;
  const mails: Promise<void>[] = [];

  setHandler(dunningStateQuery, () => state);
  setHandler(dunningRecheckSignal, () => {
    woken = true;
  });
  setHandler(dunningStopSignal, () => {
    woken = true;
  });

  function publish(): void {
    upsertSearchAttributes([{ key: DunningLevelKey, value: state.status === 'ENDED' ? `ENDED_${state.endReason}` : levelName(state.level) }]);
    const next = state.nextLevel === null ? '' : `Next: ${DUNNING_LEVEL_TITLES[state.nextLevel]} on ${state.nextLevelOn}`;
    const failed = state.failedMails.length === 0 ? '' : `Letters not mailed: ${state.failedMails.map((entry) => `${DUNNING_LEVEL_TITLES[entry.level]} (${entry.outcome})`).join(', ')}`;
    setCurrentDetails(
      [`Dunning of invoice ${input.invoiceNumber}: ${state.status === 'ENDED' ? `ended (${state.endReason})` : state.level === 0 ? 'nothing sent yet' : `${DUNNING_LEVEL_TITLES[state.level]} sent`}`, next, failed]
        .filter(Boolean)
        .join('\n'),
    );
  }

  /** Tells the account's contracts to ask the books whether dunning pauses them. A contract gone is no matter. */
  async function tellContracts(workflowIds: string[]): Promise<void> {
    await Promise.all(
      workflowIds.map((workflowId) =>
        getExternalWorkflowHandle(workflowId)
          .signal(dunningChangedSignal)
          .catch((error: unknown) => log.warn('contract not told of the dunning', { workflowId, error: String(error) })),
      ),
    );
  }

  function mailLetter(level: number): void {
    mails.push(
      mail.sendDunningMail({ invoiceId: input.invoiceId, level }).then(
        (outcome) => {
          if (outcome === 'REFUSED' || outcome === 'NO_RECIPIENT' || outcome === 'UNCERTAIN') {
            state.failedMails.push({ level, outcome });
            publish();
          }
        },
        (error: unknown) => {
          state.failedMails.push({ level, outcome: 'FAILED' });
          log.warn('dunning letter not mailed', { invoiceNumber: input.invoiceNumber, level, error: String(error) });
          publish();
        },
      ),
    );
  }

  async function end(look: Extract<DunningLook, { outcome: 'ENDED' }>): Promise<void> {
    state.status = 'ENDED';
    state.endReason = look.reason;
    state.nextLevel = null;
    state.nextLevelOn = null;
    publish();
    await tellContracts(look.contractWorkflowIds);
  }

  publish();
  // most invoices are paid by their due date: until then only a payment or a stop makes the workflow look
  const dueAt = billingInstant(input.dueDate, input.timeZone);
  if (dueAt > Date.now()) await condition(() => woken, dueAt - Date.now());
  for (;;) {
    woken = false;
    const look = await books.lookAtDunnedInvoice({ invoiceId: input.invoiceId });
    state.level = look.level;
    if (look.outcome === 'ENDED') {
      await end(look);
      break;
    }
    if (look.outcome === 'LAST_SENT') {
      state.nextLevel = null;
      state.nextLevelOn = null;
      publish();
      await condition(() => woken, WATCH_AFTER_LAST_LEVEL_MS);
      if (workflowInfo().continueAsNewSuggested) {
        // an invoice left unpaid for years: the watch goes on in a new run, which reads its level from the books
        await Promise.all(mails);
        await continueAsNew<typeof dunningWorkflow>(input);
      }
      continue;
    }
    state.nextLevel = look.nextLevel;
    state.nextLevelOn = look.dunOn;
    publish();
    const wakeAt = billingInstant(look.dunOn, input.timeZone);
    if (wakeAt > Date.now()) {
      // a payment or stop wakes the workflow before the day: look again
      if (await condition(() => woken, wakeAt - Date.now())) continue;
    }
    const step = await books.dunInvoice({ invoiceId: input.invoiceId, level: look.nextLevel, today: calendarDateAt(Date.now(), input.timeZone) });
    if (step.outcome === 'ENDED') {
      await end(step);
      break;
    }
    state.level = step.level;
    publish();
    mailLetter(step.level);
    if (step.pausesContracts) await tellContracts(step.contractWorkflowIds);
  }
  await Promise.all(mails);
  return state;
}

function levelName(level: number): string {
  return ['NONE', 'REMINDER', 'FIRST_DUNNING', 'SECOND_DUNNING'][level] ?? `LEVEL_${level}`;
}
