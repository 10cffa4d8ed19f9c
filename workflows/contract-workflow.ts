import {
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BillingRunResult, ContractActivities } from '../activities';
import { billingInstant } from '../billing/calendar';
import { statusAfterTermination } from '../billing/contract-status';
import { calendarDateAt } from '../billing/zoned-date';
import type { IsoDate } from '../billing/types';
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
  validateCancelInvoiceRequest,
  validateChangeSubscriptionRequest,
  validatePauseRequest,
  validateRebillRequest,
  validateResendMailRequest,
  validateTerminateRequest,
  type CarriedState,
  type ContractState,
  type ContractWorkflowInput,
  type QueuedMail,
  type ResendMailResult,
} from './definitions';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './activity-heartbeat';
import { dunningRecheckSignal } from './dunning-definitions';
import { ContractStatusKey, NextBillingDateKey } from './search-attributes';

const billing = proxyActivities<ContractActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['INCORRECT_INPUT_DATA', 'CONFLICT'] },
});

/**
 * A command is a short database transaction with a caller waiting for its answer. As a local activity it
 * runs in the worker that handles the update, without the two trips through the activity task queue.
 */
const commandsInWorker = proxyLocalActivities<ContractActivities>({
  startToCloseTimeout: '1 minute',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['INCORRECT_INPUT_DATA', 'CONFLICT'] },
});

/**
 * Patches (workflow.patched) that keep histories written by earlier versions replaying as they were.
 * - COMMANDS_AS_LOCAL_ACTIVITIES: commands ran as regular activities before.
 * - INVOICE_MAIL_QUEUE: the invoice mail was sent before a billing run or command finished, so a caller
 *   waited for the SMTP server; now it is queued and sent right after, outside the command.
 * - MAIL_QUEUE_CARRIED: before, the run waited for the invoice mail queue to drain before continuing as new
 *   (and a command that paused the contract waited for the operator's alert), while Temporal retried a mail
 *   without end: an SMTP outage or a mailbox answering 550 stopped the contract's billing. Now every mail,
 *   the operator's alert included, waits in the queue, which is carried across continue-as-new; each
 *   attempt is one activity and the workflow retries it with backoff; a permanent refusal (5xx) is recorded
 *   and not retried, until `resendMail` queues it again.
 * - COMMANDS_IN_ARRIVAL_ORDER: a finished command released every waiting command at once (a condition
 *   unblocks all waiters whose predicate holds in one pass); now each takes a ticket and they run one at a
 *   time in the order they arrived, billing runs included.
 * - UPDATE_ANSWERS_CARRIED: a command repeated under its update id after continue-as-new ran again and put
 *   its old result into the state; now the answer is carried and returned without touching the state.
 * - DUNNING_PAUSE: the contract pauses while an invoice on its account is dunned at a pausing level
 *   (`dunningChanged`), and resumes and bills what it missed when the dunning ends. Histories before it never
 *   got the signal, so they never reach the code behind it.
 * - BILLING_ERROR_PAUSE: a billing run that broke a rule no retry heals (NO_PRICE_FOUND, NO_TAX_RATE) failed
 *   and was retried by Temporal without end; now the run pauses the contract and answers BILLING_ERROR, the
 *   operator is mailed once, and the contract sleeps without a billing date until it is resumed
 *   (`accountChanged`). Histories before it never got that answer, so they never reach the code behind it.
 * - STORNO_TELLS_ACCOUNT: a storno (or a rebill, which cancels invoices) told only its own contract to ask
 *   its dunning pause again; another contract on the account paused for the same dunning or for the credit
 *   limit, and the dunnings the storno ended or its credit settled, waited for their next wake (a dunning
 *   after its last level for up to 7 days). Now the workflow tells them, as a payment does.
 */
const COMMANDS_AS_LOCAL_ACTIVITIES = 'commands-as-local-activities';
const INVOICE_MAIL_QUEUE = 'invoice-mail-queue';
const MAIL_QUEUE_CARRIED = 'mail-queue-carried';
const COMMANDS_IN_ARRIVAL_ORDER = 'commands-in-arrival-order';
const UPDATE_ANSWERS_CARRIED = 'update-answers-carried';
const DUNNING_PAUSE = 'dunning-pause';
const BILLING_ERROR_PAUSE = 'billing-error-pause';
const STORNO_TELLS_ACCOUNT = 'storno-tells-account';

/** Before MAIL_QUEUE_CARRIED: mail waits for an SMTP server that may be down for a while, with slow backoff and no end. */
const mail = proxyActivities<ContractActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

/** From MAIL_QUEUE_CARRIED: one attempt per activity; the workflow retries, so that it knows when none is under way. */
const mailAttempt = proxyActivities<ContractActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 1 },
});
const MAIL_RETRY_INITIAL_MS = 10_000;
const MAIL_RETRY_MAXIMUM_MS = 30 * 60_000;

const PROCESSED_UPDATE_IDS_KEPT = 200;
const FAILED_MAILS_KEPT = 50;
const ONE_HOUR_MS = 3_600_000;

/**
 * One customer contract, from its start to its end: sleeps until the next billing date, bills, mails the
 * invoice, and pauses while the account cannot take the invoice. All state is plain JSON so that it can
 * be carried across continue-as-new; every effect happens in an idempotent activity.
 */
export async function contractWorkflow(input: ContractWorkflowInput): Promise<ContractState> {
  const carried: CarriedState = input.carried ?? {
    state: {
      contractNumber: input.contractNumber,
      status: 'ACTIVE',
      pauseReason: null,
      nextBillingDate: null,
      endDate: null,
      lastInvoiceNumber: null,
      lastBillingDate: null,
      creditShortfall: null,
      billingRuns: 0,
    },
    processedUpdateIds: [],
    operatorNotifiedForPause: false,
  };
  const { state } = carried;
  state.failedMails ??= [];
  const failedMails = state.failedMails;
  carried.updateAnswers ??= [];
  const updateAnswers = carried.updateAnswers;
  carried.mailQueue ??= [];
  /** The mails still to send, oldest first; one at a time, each once the command or billing run that queued it is done. */
  const mailQueue = carried.mailQueue;
  carried.accountChanged ??= false;
  const pausedForDunning = (): boolean => state.pauseReason === 'DUNNING';
  const pausedForBillingError = (): boolean => state.status === 'PAUSED' && (state.billingError ?? null) !== null;
  let scheduleChanged = false;
  let commandRunning = false;
  /** The tickets of the commands and billing runs waiting for their turn, in arrival order. */
  const waitingTurns: number[] = [];
  let nextTurn = 0;

  const hasEnded = (): boolean => state.status === 'ENDED';
  const today = (): IsoDate => calendarDateAt(Date.now(), input.timeZone);
  const idle = (): boolean => !commandRunning && waitingTurns.length === 0;

  /** Commands and billing runs never interleave: each waits for the ones that arrived before it. */
  async function exclusively<T>(work: () => Promise<T>): Promise<T> {
    if (patched(COMMANDS_IN_ARRIVAL_ORDER)) {
      const turn = nextTurn++;
      waitingTurns.push(turn);
      // only the first in line may pass, so one pass over the conditions releases one waiter at most
      await condition(() => !commandRunning && waitingTurns[0] === turn);
      waitingTurns.shift();
    } else {
      await condition(() => !commandRunning);
    }
    commandRunning = true;
    try {
      return await work();
    } finally {
      commandRunning = false;
    }
  }

  /** Keeps the update id and the answer of a command carried out, for repeats in this run and the next ones. */
  function rememberAnswer(answer: unknown): void {
    const id = currentUpdateInfo()?.id;
    if (!id) return;
    carried.processedUpdateIds.push(id);
    carried.processedUpdateIds.splice(0, Math.max(0, carried.processedUpdateIds.length - PROCESSED_UPDATE_IDS_KEPT));
    updateAnswers.push({ id, answer });
    updateAnswers.splice(0, Math.max(0, updateAnswers.length - PROCESSED_UPDATE_IDS_KEPT));
  }

  /**
   * A contract command, once per update id. Temporal answers a repeated id itself only within one run: a
   * repeat after continue-as-new reaches the handler. It gets the answer carried from the first time, and the
   * state stays as it is. An id carried by a run of an older version has no answer: its command is asked
   * again (the books answer it from the command's stored result) and `work` is told not to apply it.
   */
  async function command<T>(work: (repeat: boolean) => Promise<T>, options: { serialised: boolean } = { serialised: true }): Promise<T> {
    const id = currentUpdateInfo()?.id;
    const earlier = id === undefined ? undefined : updateAnswers.find((entry) => entry.id === id);
    if (earlier && patched(UPDATE_ANSWERS_CARRIED)) return earlier.answer as T;
    const repeat = id !== undefined && carried.processedUpdateIds.includes(id) && patched(UPDATE_ANSWERS_CARRIED);
    const run = async (): Promise<T> => {
      const answer = await work(repeat);
      rememberAnswer(answer);
      return answer;
    };
    return options.serialised ? exclusively(run) : run();
  }

  function details(): string {
    const pause =
      state.status !== 'PAUSED'
        ? ''
        : pausedForDunning()
          ? ' (paused: dunning, until the overdue invoices are paid)'
          : pausedForBillingError()
            ? ` (paused: ${state.billingError!.code}, until the data is fixed and the contract resumed: ${state.billingError!.message})`
            : ` (paused: credit limit, short by ${state.creditShortfall})`;
    const waiting = mailQueue.length === 0 ? '' : `Mails waiting: ${mailQueue.length} (next: ${mailKeyOf(input.contractNumber, mailQueue[0]!)})`;
    const retrying = carried.mailRetry ? `Mail not sent yet, attempt ${carried.mailRetry.attempts} failed: ${carried.mailRetry.lastError}` : '';
    const failed =
      failedMails.length === 0
        ? ''
        : `Failed mails: ${failedMails.map((entry) => `${entry.businessKey} (${entry.outcome})`).join(', ')}; resend with POST /Invoices/{invoiceNumber}/resendMail`;
    return [
      `Contract ${state.contractNumber}: ${state.status}${pause}`,
      `Next billing date: ${state.nextBillingDate ?? 'none'}`,
      `Last invoice: ${state.lastInvoiceNumber ? `${state.lastInvoiceNumber} on ${state.lastBillingDate}` : 'none yet'}`,
      state.endDate ? `Ends: ${state.endDate} (exclusive)` : '',
      waiting,
      retrying,
      failed,
    ]
      .filter(Boolean)
      .join('\n');
  }

  function publish(): void {
    upsertSearchAttributes([
      { key: ContractStatusKey, value: state.status },
      // null removes the attribute: an ended contract has no next billing date
      { key: NextBillingDateKey, value: state.nextBillingDate ? new Date(`${state.nextBillingDate}T00:00:00Z`) : null },
    ]);
    setCurrentDetails(details());
  }

  /**
   * The mail queue's sender. `sending` while an attempt is under way, `backingOff` between failed attempts;
   * continue-as-new waits for an attempt, never for a backoff, and the next run goes on with the queue.
   */
  let sender: 'idle' | 'sending' | 'backingOff' = 'idle';
  /** Set just before continue-as-new: no further attempt starts in this run. */
  let closing = false;

  async function sendQueuedMails(): Promise<never> {
    for (;;) {
      await condition(() => mailQueue.length > 0 && !closing);
      if (closing) continue;
      const next = mailQueue[0]!;
      if (!patched(MAIL_QUEUE_CARRIED)) {
        // as before the patch: only invoice mails were queued, each retried by Temporal until it went out
        sender = 'sending';
        try {
          await mail.sendInvoiceMail({ invoiceNumber: (next as Extract<QueuedMail, { kind: 'INVOICE' }>).invoiceNumber, projectId: input.projectId });
        } finally {
          sender = 'idle';
        }
        mailQueue.shift();
        continue;
      }
      sender = 'sending';
      let outcome: Awaited<ReturnType<ContractActivities['sendInvoiceMail']>> | null = null;
      let failure = '';
      try {
        outcome = await sendMail(next);
      } catch (error) {
        failure = messageOf(error);
      } finally {
        sender = 'idle';
      }
      if (outcome !== null) {
        mailQueue.shift();
        carried.mailRetry = null;
        const key = { kind: next.kind, businessKey: mailKeyOf(input.contractNumber, next) };
        const listed = failedMails.findIndex((entry) => entry.kind === key.kind && entry.businessKey === key.businessKey);
        if (listed >= 0) failedMails.splice(listed, 1);
        if (outcome === 'REFUSED' || outcome === 'NO_RECIPIENT' || outcome === 'UNCERTAIN') {
          failedMails.push({ ...key, outcome });
          failedMails.splice(0, Math.max(0, failedMails.length - FAILED_MAILS_KEPT));
          log.warn('mail not sent and not retried', { contractNumber: input.contractNumber, ...key, outcome });
        }
        setCurrentDetails(details());
        continue;
      }
      // transient (SMTP down, 4xx, database away): try again with backoff, which continue-as-new never waits for
      const attempts = (carried.mailRetry?.attempts ?? 0) + 1;
      carried.mailRetry = { attempts, lastError: failure };
      setCurrentDetails(details());
      sender = 'backingOff';
      try {
        await sleep(Math.min(MAIL_RETRY_INITIAL_MS * 2 ** Math.min(attempts - 1, 20), MAIL_RETRY_MAXIMUM_MS));
      } finally {
        sender = 'idle';
      }
    }
  }

  function sendMail(next: QueuedMail) {
    if (next.kind === 'BILLING_ERROR_PAUSE') {
      return mailAttempt.notifyOperatorOfBillingError({ projectId: input.projectId, contractNumber: input.contractNumber, pausedOn: next.pausedOn, errorCode: next.errorCode, message: next.message });
    }
    return next.kind === 'INVOICE'
      ? mailAttempt.sendInvoiceMail({ invoiceNumber: next.invoiceNumber, projectId: input.projectId })
      : mailAttempt.notifyOperatorOfCreditLimit({
          projectId: input.projectId,
          contractNumber: input.contractNumber,
          pausedOn: next.pausedOn,
          grossTotal: next.grossTotal,
          shortfall: next.shortfall,
        });
  }

  void sendQueuedMails();

  /** Nothing under way: no handler, command, billing run or mail attempt, and no mail left to send. */
  const finished = (): boolean => allHandlersFinished() && idle() && mailQueue.length === 0 && sender !== 'sending';

  /** Waits until the run can continue as new with nothing lost: what is still to do is carried. */
  async function readyToContinue(): Promise<void> {
    if (!patched(MAIL_QUEUE_CARRIED)) {
      await condition(finished);
      return;
    }
    // a mail about to go or under way is given its attempt; a mail in backoff goes on in the next run
    await condition(() => allHandlersFinished() && idle() && sender !== 'sending' && (mailQueue.length === 0 || sender === 'backingOff'));
    closing = true;
    // a command accepted meanwhile still runs here, and a mail it queues is carried
    await condition(() => allHandlersFinished() && idle() && sender !== 'sending');
  }

  async function bill(): Promise<void> {
    const asOf = today();
    const billingRunKey = `${asOf}#${state.billingRuns + 1}`;
    await absorb(await billing.runBilling({ contractId: input.contractId, asOf, billingRunKey }), asOf);
  }

  /** Takes a billing run's outcome into the state; mails the invoice, or the operator once per pause. */
  async function absorb(result: BillingRunResult, asOf: IsoDate): Promise<void> {
    // a command billed while dunning pauses the contract: the billing run recorded its own status, so the
    // dunning pause is asked for again
    if (pausedForDunning()) carried.dunningChanged = true;
    state.billingRuns += 1;
    state.status = result.status;
    state.nextBillingDate = result.nextBillingDate;
    state.endDate = result.endDate;
    scheduleChanged = true;
    if (result.outcome === 'BILLING_ERROR' && patched(BILLING_ERROR_PAUSE)) {
      const known = state.billingError?.code === result.errorCode;
      state.pauseReason = result.errorCode;
      state.billingError = { code: result.errorCode, message: result.message };
      state.creditShortfall = null;
      publish();
      // once per pause: a resume that meets the same error again does not mail again
      if (!known) mailQueue.push({ kind: 'BILLING_ERROR_PAUSE', pausedOn: asOf, errorCode: result.errorCode, message: result.message });
      return;
    }
    if (state.billingError) state.billingError = null;
    if (result.outcome === 'CREDIT_LIMIT') {
      state.pauseReason = 'CREDIT_LIMIT';
      state.creditShortfall = result.shortfall;
      publish();
      if (!carried.operatorNotifiedForPause) {
        if (patched(MAIL_QUEUE_CARRIED)) {
          mailQueue.push({ kind: 'CREDIT_LIMIT_PAUSE', pausedOn: asOf, grossTotal: result.grossTotal, shortfall: result.shortfall });
        } else {
          await mail.notifyOperatorOfCreditLimit({
            projectId: input.projectId,
            contractNumber: input.contractNumber,
            pausedOn: asOf,
            grossTotal: result.grossTotal,
            shortfall: result.shortfall,
          });
        }
        carried.operatorNotifiedForPause = true;
      }
      return;
    }
    state.pauseReason = null;
    state.creditShortfall = null;
    carried.operatorNotifiedForPause = false;
    if (result.outcome === 'INVOICED') {
      state.lastInvoiceNumber = result.invoiceNumber;
      state.lastBillingDate = asOf;
      publish();
      if (patched(INVOICE_MAIL_QUEUE)) {
        mailQueue.push({ kind: 'INVOICE', invoiceNumber: result.invoiceNumber });
      } else {
        await mail.sendInvoiceMail({ invoiceNumber: result.invoiceNumber, projectId: input.projectId });
      }
      return;
    }
    publish();
  }

  /** Where a command's activity runs: in the worker handling the update, unless the history says otherwise. */
  function commandActivities(): ContractActivities {
    return patched(COMMANDS_AS_LOCAL_ACTIVITIES) ? commandsInWorker : billing;
  }

  /** The context every command activity gets: its idempotency key is the update id. */
  function commandContext() {
    return { contractId: input.contractId, commandKey: currentUpdateInfo()?.id ?? `${today()}#${state.billingRuns}`, today: today() };
  }

  function rescheduled(nextBillingDate: IsoDate | null): void {
    state.nextBillingDate = nextBillingDate;
    scheduleChanged = true;
    publish();
  }

  setHandler(contractStateQuery, () => state);
  setHandler(accountChangedSignal, () => {
    // carried: a signal that arrives while the run is about to continue as new is acted on by the next run
    carried.accountChanged = true;
  });
  setHandler(dunningChangedSignal, () => {
    carried.dunningChanged = true;
  });

  /**
   * After a storno lowered the account's balance: the account's other contracts are told its balance changed
   * (one paused for the credit limit bills now) and the dunnings of its invoices to look again (one whose
   * invoice is cancelled or settled ends, and tells the contracts it paused). A workflow gone is no matter.
   */
  async function tellAccountOfStorno(): Promise<void> {
    // the workflow ids come from the activity, recorded in history: a replay signals the same workflows
    const { contractWorkflowIds, dunningWorkflowIds } = await commandActivities().workflowsToTellOfAccountChange({ contractId: input.contractId });
    const tell = (workflowId: string, signal: typeof accountChangedSignal | typeof dunningRecheckSignal) =>
      getExternalWorkflowHandle(workflowId)
        .signal(signal)
        .catch((error: unknown) => log.warn('workflow not told of the storno', { contractNumber: input.contractNumber, workflowId, error: String(error) }));
    await Promise.all([
      ...contractWorkflowIds.map((workflowId) => tell(workflowId, accountChangedSignal)),
      ...dunningWorkflowIds.map((workflowId) => tell(workflowId, dunningRecheckSignal)),
    ]);
  }

  /**
   * Asks the books whether dunning pauses the contract and records it there (activity applyDunningPause).
   * Returns true when the contract was released from a dunning pause and is to bill what it missed.
   */
  async function applyDunning(): Promise<boolean> {
    if (!patched(DUNNING_PAUSE)) return false;
    const wasPaused = pausedForDunning();
    const after = await billing.applyDunningPause({ contractId: input.contractId });
    if (after.pauseReason === 'DUNNING') {
      state.status = 'PAUSED';
      state.pauseReason = 'DUNNING';
      state.creditShortfall = null;
      publish();
      return false;
    }
    if (!wasPaused) return false;
    state.status = after.status as ContractState['status'];
    state.pauseReason = null;
    publish();
    return true;
  }
  setHandler(
    terminateUpdate,
    (request) =>
      command(async (repeat) => {
        const result = await commandActivities().terminateContract({ contractId: input.contractId, requestedOn: today(), endDate: request.endDate ?? null });
        if (!repeat) {
          state.endDate = result.endDate;
          state.status = statusAfterTermination(state.status);
          state.nextBillingDate = result.nextBillingDate;
          scheduleChanged = true;
          publish();
        }
        return result;
      }),
    { validator: validateTerminateRequest },
  );

  setHandler(
    cancelInvoiceUpdate,
    (request) =>
      command(async (repeat) => {
        const result = await commandActivities().cancelInvoice({ ...commandContext(), invoiceNumber: request.invoiceNumber, reason: request.reason ?? null });
        // the storno of a dunned invoice can release the dunning pause: the books are asked again
        if (pausedForDunning()) carried.dunningChanged = true;
        if (!repeat && patched(STORNO_TELLS_ACCOUNT)) await tellAccountOfStorno();
        return result;
      }),
    { validator: validateCancelInvoiceRequest },
  );

  setHandler(
    rebillUpdate,
    (request) =>
      command(async (repeat) => {
        const context = commandContext();
        const { billing: run, ...answer } = await commandActivities().rebill({ ...context, from: request.from });
        if (!repeat) await absorb(run, context.today);
        if (!repeat && patched(STORNO_TELLS_ACCOUNT)) await tellAccountOfStorno();
        return answer;
      }),
    { validator: validateRebillRequest },
  );

  setHandler(
    pauseUpdate,
    (request) =>
      command(async (repeat) => {
        const result = await commandActivities().addDeliveryPause({ ...commandContext(), from: request.from, until: request.until, itemNumbers: request.itemNumbers ?? null });
        if (!repeat) rescheduled(result.nextBillingDate);
        return result;
      }),
    { validator: validatePauseRequest },
  );

  setHandler(
    changeSubscriptionUpdate,
    (request) =>
      command(async (repeat) => {
        const result = await commandActivities().changeSubscription({ ...commandContext(), effectiveDate: request.effectiveDate, items: request.items });
        if (!repeat) rescheduled(result.nextBillingDate);
        return result;
      }),
    { validator: validateChangeSubscriptionRequest },
  );

  setHandler(interimInvoiceUpdate, () =>
    command(async (repeat) => {
      const context = commandContext();
      const { billing: run, invoiceNumber } = await commandActivities().issueInterimInvoice(context);
      if (!repeat) await absorb(run, context.today);
      return { invoiceNumber };
    }),
  );

  setHandler(
    resendMailUpdate,
    (request) =>
      // the books are not touched: no need to wait for the commands before it
      command(
        async (): Promise<ResendMailResult> => {
          const queued = mailQueue.some((entry) => entry.kind === 'INVOICE' && entry.invoiceNumber === request.invoiceNumber);
          if (!queued) mailQueue.push({ kind: 'INVOICE', invoiceNumber: request.invoiceNumber });
          setCurrentDetails(details());
          return { invoiceNumber: request.invoiceNumber, status: 'QUEUED' };
        },
        { serialised: false },
      ),
    { validator: validateResendMailRequest },
  );

  if (input.carried === undefined) {
    await exclusively(bill);
  } else {
    publish();
  }

  while (state.status !== 'ENDED') {
    // paused for dunning: no billing date wakes the contract, only the end of the dunning does
    // paused for a billing error: nothing wakes it but a resume
    const wakeAt = state.nextBillingDate && !pausedForDunning() && !pausedForBillingError() ? billingInstant(state.nextBillingDate, input.timeZone) + jitterMs(input.contractNumber) : null;
    scheduleChanged = false;
    const woken = () =>
      scheduleChanged || (carried.accountChanged === true && state.status === 'PAUSED') || carried.dunningChanged === true || workflowInfo().continueAsNewSuggested;
    if (wakeAt === null) {
      await condition(woken);
    } else {
      await condition(woken, Math.max(0, wakeAt - Date.now()));
    }
    let released = false;
    if (carried.dunningChanged === true) {
      carried.dunningChanged = false;
      released = await exclusively(applyDunning);
    }
    const due = wakeAt !== null && Date.now() >= wakeAt && !pausedForDunning();
    const retryPaused = carried.accountChanged === true && state.status === 'PAUSED' && !pausedForDunning();
    carried.accountChanged = false;
    if (due || retryPaused || released) {
      await exclusively(bill);
      if (hasEnded()) break;
    }
    if (due || retryPaused || released || workflowInfo().continueAsNewSuggested) {
      await readyToContinue();
      log.info('continuing as new', { contractNumber: input.contractNumber, nextBillingDate: state.nextBillingDate, mailsWaiting: mailQueue.length });
      await continueAsNew<typeof contractWorkflow>({ ...input, carried });
    }
  }
  // An ended contract waits for its last mails. Should the SMTP server stay away long enough for the history
  // to grow, the ended contract continues as new meanwhile, with the mails it still has to send.
  for (;;) {
    await condition(() => finished() || workflowInfo().continueAsNewSuggested);
    if (finished() || !patched(MAIL_QUEUE_CARRIED)) break;
    await readyToContinue();
    await continueAsNew<typeof contractWorkflow>({ ...input, carried });
  }
  await condition(finished);
  return state;
}

/** The mail log's business key of a queued mail (operations/mail.ts keys them the same way). */
function mailKeyOf(contractNumber: string, queued: QueuedMail): string {
  return queued.kind === 'INVOICE' ? queued.invoiceNumber : `${contractNumber}:${queued.pausedOn}`;
}

/** The reason of a failed attempt, innermost cause first: the SMTP or database error rather than "Activity task failed". */
function messageOf(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && (current as Error & { cause?: unknown }).cause instanceof Error) current = (current as Error & { cause?: unknown }).cause;
  return (current instanceof Error ? current.message : String(current)).slice(0, 300);
}

/**
 * Spreads wake-ups over the first hour of the billing day, the same offset for a contract every time, so
 * that the first of the month does not wake every contract in the same second. The invoice date stays the
 * billing date.
 */
export function jitterMs(contractNumber: string): number {
  let hash = 2166136261;
  for (let index = 0; index < contractNumber.length; index += 1) {
    hash ^= contractNumber.charCodeAt(index);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return (hash % 3600) * 1000 % ONE_HOUR_MS;
}

