import { z } from 'zod';
import { bicSchema, businessNumberSchema, ibanSchema, isoDateSchema, mandateReferenceSchema } from './fields';
import { localeSchema } from './locale';
import { taxIdentityIssues } from './tax-identity';

/** A customer's fields, as `POST /Customers`, `PUT /Customers/{n}` and the customer import check them. */

const text = (max: number) => z.string().trim().min(1).max(max).nullable().default(null);

const sepaMandateSchema = z
  .object({ reference: mandateReferenceSchema, signedOn: isoDateSchema })
  .nullable()
  .default(null)
  .meta({ description: 'the SEPA direct debit mandate; needs the iban' });

export const customerFieldsSchema = z
  .object({
    salutation: text(50),
    firstName: text(200),
    lastName: text(200),
    companyName: text(300),
    email: z.email('must be an e-mail address').max(320).nullable().default(null),
    locale: localeSchema.default('de'),
    euTaxId: z
      .string()
      .regex(/^[A-Z]{2}[A-Za-z0-9+*]{2,13}$/, 'must be an EU VAT id such as DE123456789')
      .nullable()
      .default(null),
    taxNumber: text(50),
    taxRegion: z.enum(['NATIONAL', 'EU', 'THIRD_COUNTRY']).default('NATIONAL'),
    billingAddress: z
      .object({
        addressLine1: text(300),
        addressLine2: text(300),
        zipCode: text(20),
        cityName: text(200),
        country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as DE').nullable().default(null),
      })
      .default({ addressLine1: null, addressLine2: null, zipCode: null, cityName: null, country: null }),
    duePeriod: z.number().int().min(0).max(365).default(14),
    dueUnit: z.enum(['DAY', 'WEEK', 'MONTH']).default('DAY'),
    iban: ibanSchema.nullable().default(null),
    bic: bicSchema.nullable().default(null),
    sepaMandate: sepaMandateSchema,
    buyerReference: text(200),
  })
  .refine((customer) => customer.companyName !== null || customer.lastName !== null, {
    path: ['lastName'],
    message: 'a customer needs a lastName or a companyName',
  })
  .refine((customer) => customer.sepaMandate === null || customer.iban !== null, {
    path: ['iban'],
    message: 'a SEPA mandate needs the IBAN it was given for',
  })
  .superRefine((customer, context) => {
    const identity = { euTaxId: customer.euTaxId, taxRegion: customer.taxRegion, country: customer.billingAddress.country };
    for (const issue of taxIdentityIssues(identity)) context.addIssue({ code: 'custom', ...issue });
  });

export const createCustomerSchema = z.intersection(z.object({ customerNumber: businessNumberSchema.optional() }), customerFieldsSchema);
