import { Router } from 'express';
import { electronicFormatIBAN, isValidBIC, isValidIBAN } from 'ibantools';
import { z } from 'zod';
import {
  findCustomer,
  insertCustomer,
  isDuplicateMandateReference,
  listCustomerContracts,
  listCustomers,
  updateCustomer,
  type Customer,
  type CustomerFields,
} from '../../db/queries/customers';
import { takeNextNumber } from '../../db/numbers';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { businessNumberSchema, isoDateSchema, pageOf, paginationSchema } from '../schemas';

const text = (max: number) => z.string().trim().min(1).max(max).nullable().default(null);

/** IBANs arrive as people write them ("DE89 3704 0044 …"); they are stored and sent in electronic format. */
export const ibanSchema = z
  .string()
  .transform((value, context) => {
    const iban = electronicFormatIBAN(value) ?? '';
    if (!isValidIBAN(iban)) {
      context.addIssue({ code: 'custom', message: 'is not a valid IBAN (country code, check digits and length are checked)' });
      return z.NEVER;
    }
    return iban;
  })
  .meta({ description: 'IBAN, spaces allowed; answered in electronic format', examples: ['DE89370400440532013000'] });

const bicSchema = z
  .string()
  .transform((value, context) => {
    const bic = value.replace(/\s+/g, '').toUpperCase();
    if (!isValidBIC(bic)) {
      context.addIssue({ code: 'custom', message: 'is not a valid BIC (8 or 11 characters)' });
      return z.NEVER;
    }
    return bic;
  })
  .meta({ examples: ['COBADEFFXXX'] });

/**
 * A SEPA mandate reference (MndtId): at most 35 characters of the SEPA character set, and as an identifier it
 * may neither start with "/" nor contain "//" (EPC implementation guidelines).
 */
export const mandateReferenceSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(35, 'must have at most 35 characters')
  .regex(/^[A-Za-z0-9+?/\-:().,' ]+$/, "may only contain the SEPA characters A-Z a-z 0-9 / - ? : ( ) . , ' + and space")
  .refine((value) => !value.startsWith('/') && !value.includes('//'), 'must not start with "/" or contain "//"');

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
    locale: z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'must be a locale such as de or de-DE').default('de'),
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
  });

export const createCustomerSchema = z.intersection(z.object({ customerNumber: businessNumberSchema.optional() }), customerFieldsSchema);
const customerNumberParam = z.object({ customerNumber: businessNumberSchema });

/** Customers (Kunden) and the contracts each one has. */
export function customerRoutes({ sql }: ApiDependencies): Router {
  const router = Router();

  router.post('/Customers', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber, ...fields } = createCustomerSchema.parse(request.body);
    const customer = await refuseDuplicateMandate(sql.begin(async (tx) => {
      if (customerNumber !== undefined) {
        const created = await insertCustomer(tx, project.id, customerNumber, fields satisfies CustomerFields);
        if (!created) throw new ApiError(409, 'CONFLICT', `customer ${customerNumber} exists already`, [{ path: 'customerNumber', message: 'exists already' }]);
        return created;
      }
      // A generated number may have been taken by hand before: take the next one then.
      for (;;) {
        const generated = await takeNextNumber(tx, project.id, 'CUSTOMER', '1970-01-01');
        const created = await insertCustomer(tx, project.id, generated, fields);
        if (created) return created;
      }
    }));
    response.status(201).location(`/api/v1/Customers/${customer.customerNumber}`).json(publicCustomer(customer));
  });

  router.get('/Customers', async (request, response) => {
    const project = projectOf(request);
    const query = paginationSchema.parse(request.query);
    const rows = await listCustomers(sql, project.id, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicCustomer));
  });

  router.get('/Customers/:customerNumber', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const customer = await findCustomer(sql, project.id, customerNumber);
    if (!customer) throw ApiError.notFound(`customer ${customerNumber}`);
    response.json(publicCustomer(customer));
  });

  router.put('/Customers/:customerNumber', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const fields = customerFieldsSchema.parse(request.body);
    const customer = await refuseDuplicateMandate(updateCustomer(sql, project.id, customerNumber, fields));
    if (!customer) throw ApiError.notFound(`customer ${customerNumber}`);
    response.json(publicCustomer(customer));
  });

  router.get('/Customers/:customerNumber/Contracts', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const query = paginationSchema.parse(request.query);
    const customer = await findCustomer(sql, project.id, customerNumber);
    if (!customer) throw ApiError.notFound(`customer ${customerNumber}`);
    const rows = await listCustomerContracts(sql, customer.id, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, ({ id: _id, ...contract }) => contract));
  });

  return router;
}

function publicCustomer({ id: _id, ...customer }: Customer) {
  return customer;
}

/** A mandate reference identifies one mandate of the creditor: a second customer cannot have it. */
async function refuseDuplicateMandate<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isDuplicateMandateReference(error)) {
      throw new ApiError(409, 'CONFLICT', 'another customer has this SEPA mandate reference', [
        { path: 'sepaMandate.reference', message: 'is the reference of another customer\'s mandate' },
      ]);
    }
    throw error;
  }
}
