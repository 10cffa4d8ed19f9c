import { z } from 'zod';
import { minorUnits } from '../billing/money';
import { currencySchema, decimalSchema, fitsCurrency, nonNegativeDecimalSchema } from './fields';

/** An account's terms, as `POST /Customers/{n}/Accounts`, `PUT /Accounts/{n}` and the customer import check them. */

export const createAccountSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    type: z.enum(['PREPAID', 'POSTPAID']),
    currency: currencySchema,
    openingBalance: decimalSchema.optional(),
    minimumTopUp: nonNegativeDecimalSchema.optional(),
    creditLimit: nonNegativeDecimalSchema.optional(),
  })
  .superRefine((account, context) => {
    if (account.type === 'POSTPAID' && account.minimumTopUp !== undefined) {
      context.addIssue({ code: 'custom', path: ['minimumTopUp'], message: 'applies to PREPAID accounts only' });
    }
    if (account.type === 'PREPAID' && account.creditLimit !== undefined) {
      context.addIssue({ code: 'custom', path: ['creditLimit'], message: 'applies to POSTPAID accounts only' });
    }
    for (const field of ['openingBalance', 'minimumTopUp', 'creditLimit'] as const) {
      const amount = account[field];
      if (amount !== undefined && !fitsCurrency(amount, account.currency)) {
        context.addIssue({ code: 'custom', path: [field], message: `has more decimals than ${account.currency} has (${minorUnits(account.currency)})` });
      }
    }
  });

export const updateAccountSchema = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  creditLimit: nonNegativeDecimalSchema.optional(),
  minimumTopUp: nonNegativeDecimalSchema.optional(),
});
