import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** What operators filter contracts by in the Temporal Web UI. */
export const CustomerNumberKey = defineSearchAttributeKey('CustomerNumber', SearchAttributeType.KEYWORD);
export const ContractNumberKey = defineSearchAttributeKey('ContractNumber', SearchAttributeType.KEYWORD);
export const ContractStatusKey = defineSearchAttributeKey('ContractStatus', SearchAttributeType.KEYWORD);
export const NextBillingDateKey = defineSearchAttributeKey('NextBillingDate', SearchAttributeType.DATETIME);

export const CONTRACT_SEARCH_ATTRIBUTES = [CustomerNumberKey, ContractNumberKey, ContractStatusKey, NextBillingDateKey] as const;
