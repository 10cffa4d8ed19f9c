import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';
import { runBilling, type BillingRunRequest } from './billing';
import { notifyOperatorOfCreditLimit, sendInvoiceMail } from './mail';
import type { Mailer } from './mailer';
import { addDeliveryPause, cancelInvoice, changeSubscription, issueInterimInvoice, rebill } from './commands';
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
    cancelInvoice: (request: Parameters<typeof cancelInvoice>[1]) => cancelInvoice(deps, request),
    rebill: (request: Parameters<typeof rebill>[1]) => rebill(deps, request),
    addDeliveryPause: (request: Parameters<typeof addDeliveryPause>[1]) => addDeliveryPause(deps, request),
    changeSubscription: (request: Parameters<typeof changeSubscription>[1]) => changeSubscription(deps, request),
    issueInterimInvoice: (request: Parameters<typeof issueInterimInvoice>[1]) => issueInterimInvoice(deps, request),
  };
}

export type ContractActivities = ReturnType<typeof createActivities>;
