import { Router } from 'express';
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
import { pageOf, paginationSchema } from '../schemas';
import { businessNumberSchema } from '../../validation/fields';
import { createCustomerSchema, customerFieldsSchema } from '../../validation/customers';

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
