export { contractWorkflow } from './contract-workflow';
export { dunningWorkflow } from './dunning-workflow';
export { webhookDispatcherWorkflow } from './webhook-dispatcher';
