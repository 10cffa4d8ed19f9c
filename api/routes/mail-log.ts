import type { Router } from 'express';
import { z } from 'zod';
import { listMailLog, type MailLogEntry } from '../../operations/mail-log';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { pageOf, paginationSchema } from '../schemas';

export const mailLogQuerySchema = paginationSchema.extend({
  status: z.enum(['PENDING', 'COMMITTING', 'SENT', 'FAILED', 'UNCERTAIN']).optional(),
  kind: z.string().regex(/^[A-Z][A-Z_]{0,49}$/, 'must be a mail kind such as INVOICE or CREDIT_LIMIT_PAUSE').optional(),
  businessKey: z.string().min(1).max(200).optional(),
});

/**
 * The mails the engine sent or tried to send (invoices, credit-limit alerts to the operator): one row per
 * business fact, with the number of attempts and the SMTP error while a send keeps failing.
 */
export function mailLogRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };

  router.get('/MailLog', async (request, response) => {
    const project = projectOf(request);
    const { limit, afterId, ...filter } = mailLogQuerySchema.parse(request.query);
    const rows = await listMailLog(deps, project.id, filter, { afterId, limit: limit + 1 });
    response.json(pageOf(rows, limit, publicMail));
  });
}

function publicMail({ id: _id, ...mail }: MailLogEntry) {
  return mail;
}
