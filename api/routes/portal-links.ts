import type { Router } from 'express';
import { z } from 'zod';
import { createSignInLink, listRecordedTerminations } from '../../operations/portal';
import { portalMailer } from '../../portal/mailer';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { pageOf } from '../pagination';
import { paginationSchema } from '../schemas';

export const portalLinkSchema = z
  .object({ mail: z.boolean().default(false).meta({ description: 'also mail the link to the customer (mail log kind PORTAL_SIGN_IN)' }) })
  .default({ mail: false });

/**
 * The operator's side of the customer center: a sign-in link for a customer (single use, 15 minutes), answered
 * and, when asked, mailed; and the terminations received through the cancellation button that no contract's
 * workflow carried out (the data named no contract, or the termination is extraordinary), for a person to act on.
 */
export function portalLinkRoutes(router: Router, { sql, config, logger }: ApiDependencies): void {
  const mailer = portalMailer(config);

  router.post('/Customers/:customerNumber/portalLink', async (request, response) => {
    const project = projectOf(request);
    const body = portalLinkSchema.parse(request.body ?? {});
    const link = await createSignInLink(
      { sql, mailer, logger },
      { projectId: project.id, customerNumber: request.params.customerNumber, portalUrl: config.portal.publicUrl, mail: body.mail },
    );
    response.status(201).json({ url: link.url, expiresAt: link.expiresAt.toISOString(), mail: link.mail });
  });

  router.get('/PortalTerminations', async (request, response) => {
    const project = projectOf(request);
    const { limit, afterId } = paginationSchema.parse(request.query);
    const rows = await listRecordedTerminations({ sql }, project.id, { afterId, limit: limit + 1 });
    response.json(pageOf(rows, limit, (row) => row));
  });
}
