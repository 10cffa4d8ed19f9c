import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { runBilling, type BillingRunRequest } from './billing';
import { notifyOperatorOfCreditLimit, sendInvoiceMail } from './mail';
import type { Mailer } from './mailer';
import { terminateContract, type TerminationRequest } from './termination';

export interface ActivityDependencies {
  sql: Sql;
  mailer: Mailer;
  config: Config;
  logger: Logger;
}

/** All I/O of the contract workflow. The workflow imports only the type of this object. */
export function createActivities(deps: ActivityDependencies) {
  return {
    runBilling: (request: BillingRunRequest) => runBilling(deps, request),
    sendInvoiceMail: (request: { invoiceNumber: string; projectId: string }) => sendInvoiceMail(deps, request),
    notifyOperatorOfCreditLimit: (request: Parameters<typeof notifyOperatorOfCreditLimit>[1]) => notifyOperatorOfCreditLimit(deps, request),
    terminateContract: (request: TerminationRequest) => terminateContract(deps, request),
  };
}

export type ContractActivities = ReturnType<typeof createActivities>;
