import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import type { Mailer } from '../mail/mailer';
import { applyDunningPause, dunInvoice, lookAtDunnedInvoice, sendDunningMail } from '../operations/dunning';
import { asActivity } from './failures';

/**
 * The dunning workflow's activities, and the contract workflow's look at a dunning pause. The operations
 * decide; a refusal (an invoice or level that does not exist) is final.
 */
export function createDunningActivities(attempt: (bindings?: Record<string, string>) => { sql: Sql; mailer: Mailer; logger: Logger }) {
  return {
    lookAtDunnedInvoice: (request: { invoiceId: string }) => asActivity(() => lookAtDunnedInvoice(attempt(), request)),
    dunInvoice: (request: Parameters<typeof dunInvoice>[1]) => asActivity(() => dunInvoice(attempt(), request)),
    sendDunningMail: (request: Parameters<typeof sendDunningMail>[1]) => asActivity(() => sendDunningMail(attempt(), request)),
    applyDunningPause: (request: { contractId: string }) => asActivity(() => applyDunningPause(attempt(), request)),
  };
}

export type { DunningLook, DunningStepResult } from '../operations/dunning';
