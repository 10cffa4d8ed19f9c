import type { Router } from 'express';
import { z } from 'zod';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { pageOf, paginationSchema } from '../schemas';
import { createCustomer, getCustomer, listCustomerContracts, listCustomers, updateCustomer, type Customer } from '../../operations/customers';
import { businessNumberSchema } from '../../validation/fields';
import { createCustomerSchema, customerFieldsSchema } from '../../validation/customers';

const customerNumberParam = z.object({ customerNumber: businessNumberSchema });

/** Customers (Kunden) and the contracts each one has; the rules are in operations/customers.ts. */
export function customerRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };

  router.post('/Customers', async (request, response) => {
    const project = projectOf(request);
    const customer = await createCustomer(deps, project.id, createCustomerSchema.parse(request.body));
    response.status(201).location(`/api/v1/Customers/${customer.customerNumber}`).json(publicCustomer(customer));
  });

  router.get('/Customers', async (request, response) => {
    const project = projectOf(request);
    const query = paginationSchema.parse(request.query);
    const rows = await listCustomers(deps, project.id, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, publicCustomer));
  });

  router.get('/Customers/:customerNumber', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    response.json(publicCustomer(await getCustomer(deps, project.id, customerNumber)));
  });

  router.put('/Customers/:customerNumber', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const fields = customerFieldsSchema.parse(request.body);
    response.json(publicCustomer(await updateCustomer(deps, project.id, customerNumber, fields)));
  });

  router.get('/Customers/:customerNumber/Contracts', async (request, response) => {
    const project = projectOf(request);
    const { customerNumber } = customerNumberParam.parse(request.params);
    const query = paginationSchema.parse(request.query);
    const rows = await listCustomerContracts(deps, project.id, customerNumber, { afterId: query.afterId, limit: query.limit + 1 });
    response.json(pageOf(rows, query.limit, ({ id: _id, ...contract }) => contract));
  });

  // a refused customer number or mandate reference names its field under a summary of its own
}

function publicCustomer({ id: _id, ...customer }: Customer) {
  return customer;
}
