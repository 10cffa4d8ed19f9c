/**
 * The most items a subscription, a change's item set or a pause's item list may name: checked by the API's
 * schemas and again by the contract workflow's update validators, so no caller makes a billing run walk more.
 */
export const MAX_SUBSCRIPTION_ITEMS = 100;
