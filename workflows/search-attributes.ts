import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** What operators filter contracts by in the Temporal Web UI. */
export const CustomerNumberKey = defineSearchAttributeKey('CustomerNumber', SearchAttributeType.KEYWORD);
export const ContractNumberKey = defineSearchAttributeKey('ContractNumber', SearchAttributeType.KEYWORD);
export const ContractStatusKey = defineSearchAttributeKey('ContractStatus', SearchAttributeType.KEYWORD);
export const NextBillingDateKey = defineSearchAttributeKey('NextBillingDate', SearchAttributeType.DATETIME);

export const CONTRACT_SEARCH_ATTRIBUTES = [CustomerNumberKey, ContractNumberKey, ContractStatusKey, NextBillingDateKey] as const;

/** What operators filter dunning workflows by: the invoice, its customer (CustomerNumber) and the level reached. */
export const InvoiceNumberKey = defineSearchAttributeKey('InvoiceNumber', SearchAttributeType.KEYWORD);
export const DunningLevelKey = defineSearchAttributeKey('DunningLevel', SearchAttributeType.KEYWORD);

export const DUNNING_SEARCH_ATTRIBUTES = [InvoiceNumberKey, DunningLevelKey] as const;
/** Every attribute a namespace needs registered. */
export const SEARCH_ATTRIBUTES = [...CONTRACT_SEARCH_ATTRIBUTES, ...DUNNING_SEARCH_ATTRIBUTES] as const;
