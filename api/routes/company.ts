import type { Router } from 'express';
import { validateCreditorID } from 'sepa';
import { z } from 'zod';
import { getCompanyDetails, getReceivablesSettings, replaceCompanyDetails, replaceReceivablesSettings } from '../../operations/company';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { bicSchema, ibanSchema } from '../../validation/fields';

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullish()
    .transform((value) => (value ? value : null));

/** Bank identifiers arrive as people write them ("DE89 3704 …"); they are stored in electronic format. */
const compact = (value: string) => value.replace(/\s+/g, '').toUpperCase();

export const companyDetailsSchema = z
  .object({
    legalName: z.string().trim().min(1).max(200),
    address: z.object({
      addressLine1: z.string().trim().min(1).max(200),
      addressLine2: optionalText(200),
      zipCode: z.string().trim().min(1).max(20),
      cityName: z.string().trim().min(1).max(100),
      country: z
        .string()
        .trim()
        .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code such as DE')
        .transform((value) => value.toUpperCase())
        .default('DE'),
    }),
    vatId: z
      .string()
      .trim()
      .transform(compact)
      .pipe(z.string().regex(/^[A-Z]{2}[0-9A-Z+*.]{2,13}$/, 'must be a VAT identification number such as DE123456789'))
      .nullish()
      .transform((value) => value ?? null),
    taxNumber: optionalText(30),
    contactName: optionalText(200),
    email: z.email().max(200),
    phone: z.string().trim().min(3).max(50),
    // trimmed first: the IBAN's own rule drops only the spaces and hyphens people write inside it
    iban: z
      .string()
      .trim()
      .pipe(ibanSchema)
      .nullish()
      .transform((value) => value ?? null),
    bic: bicSchema.nullish().transform((value) => value ?? null),
    bankName: optionalText(200),
    sepaCreditorId: z
      .string()
      .trim()
      .transform(compact)
      .refine((value) => /^[A-Z]{2}\d{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$/.test(value) && validateCreditorID(value), 'is not a valid SEPA creditor identifier')
      .nullish()
      .transform((value) => value ?? null),
  })
  .superRefine((company, context) => {
    // § 14 UStG: the seller's VAT id or tax number must be on every invoice.
    if (!company.vatId && !company.taxNumber) {
      context.addIssue({ code: 'custom', path: ['vatId'], message: 'vatId or taxNumber is required' });
    }
    if (company.bic && !company.iban) {
      context.addIssue({ code: 'custom', path: ['iban'], message: 'is required with a BIC' });
    }
  });

/** The project's receivables settings; PUT replaces both. */
export const receivablesSettingsSchema = z.object({
  sepaPreNotificationDays: z
    .number({ error: 'must be a whole number of days from 1 to 60' })
    .int('must be a whole number of days from 1 to 60')
    .min(1, 'must be a whole number of days from 1 to 60')
    .max(60, 'must be a whole number of days from 1 to 60')
    .meta({ description: 'days from the invoice date to the earliest direct debit its pre-notification announces (SEPA rulebook default 14)' }),
  chargeReturnFees: z.boolean({ error: 'must be true or false' }).meta({ description: "whether the bank's fee for a returned direct debit is booked on the customer's account" }),
});

/**
 * The company that issues the project's invoices (GET /Company, PUT /Company replaces all of it), and how
 * the project handles its receivables (GET and PUT /Settings/receivables).
 */
export function companyRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };

  router.get('/Company', async (request, response) => {
    const project = projectOf(request);
    response.json(await getCompanyDetails(deps, project.id));
  });

  router.put('/Company', async (request, response) => {
    const project = projectOf(request);
    const body = companyDetailsSchema.parse(request.body);
    response.json(await replaceCompanyDetails(deps, project.id, body));
  });

  router.get('/Settings/receivables', async (request, response) => {
    const project = projectOf(request);
    response.json(await getReceivablesSettings(deps, project.id));
  });

  router.put('/Settings/receivables', async (request, response) => {
    const project = projectOf(request);
    const body = receivablesSettingsSchema.parse(request.body);
    response.json(await replaceReceivablesSettings(deps, project.id, body));
  });
}
