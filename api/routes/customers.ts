import { Router } from 'express';
import { z } from 'zod';
import { findCustomer, insertCustomer, listCustomerContracts, listCustomers, updateCustomer, type Customer, type CustomerFields } from '../../db/queries/customers';
import { takeNextNumber } from '../../db/numbers';
import type { ApiDependencies } from '../app';
import { projectOf } from '../auth';
import { ApiError } from '../errors';
import { businessNumberSchema, pageOf, paginationSchema } from '../schemas';

const text = (max: number) => z.string().trim().min(1).max(max).nullable().default(null);

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
  })
  .refine((customer) => customer.companyName !== null || customer.lastName !== null, {
    path: ['lastName'],
    message: 'a customer needs a lastName or a companyName',
  });

export const createCustomerSchema = z.intersection(z.object({ customerNumber: businessNumberSchema.optional() }), customerFieldsSchema);
const customerNumberParam = z.object({ customerNumber: businessNumberSchema });

/** Customers (Kunden) and the contracts each one has. */
export function customerRoutes({ sql }: ApiDependencies): Router {
  const router = Router();

  router.post('/Customers', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber, ...fields } = createCustomerSchema.parse(request.body);
    const customer = await sql.begin(async (tx) => {
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
    });
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
    const customer = await updateCustomer(sql, project.id, customerNumber, fields);
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
