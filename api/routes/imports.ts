import express, { type Router, type NextFunction, type Request, type Response } from 'express';
import { importCustomers } from '../../operations/customer-import';
import type { ApiDependencies } from '../dependencies';
import { projectOf } from '../auth';
import { ApiError } from '../errors';

const MAX_IMPORT_SIZE = '20mb';

const readCsv = express.text({ type: ['text/csv', 'text/plain', 'application/csv'], limit: MAX_IMPORT_SIZE, defaultCharset: 'utf-8' });

/** The CSV body parser's failures as problems that speak of the file, not of JSON. */
function csvBody(request: Request, response: Response, next: NextFunction): void {
  readCsv(request, response, (error?: unknown) => {
    if (!error) return next();
    const failure = error as { type?: string };
    if (failure.type === 'entity.too.large') return next(new ApiError(413, 'PAYLOAD_TOO_LARGE', `the file is larger than ${MAX_IMPORT_SIZE}`));
    if (failure.type === 'charset.unsupported') return next(new ApiError(415, 'INCORRECT_INPUT_DATA', 'the file must be UTF-8'));
    return next(new ApiError(400, 'INCORRECT_INPUT_DATA', 'the request body could not be read as text'));
  });
}

/** Bulk imports of master data from files. */
export function importRoutes(router: Router, { sql }: ApiDependencies): void {
  const deps = { sql };

  /**
   * Customers and their first accounts from a CSV file (see imports/customers-csv.ts for the columns).
   * Valid rows are imported, a customer number that exists already is skipped, and every refused row comes
   * back with its line and reasons; a file that cannot be read as CSV is refused as a whole.
   */
  router.post('/Imports/customers', csvBody, async (request, response) => {
    const project = projectOf(request);
    if (typeof request.body !== 'string') {
      throw new ApiError(415, 'INCORRECT_INPUT_DATA', 'send the file as the request body with content-type text/csv');
    }
    response.json(await importCustomers(deps, project, { text: request.body }));
  });

  // a file refused as a whole names its line
}
