/**
 * The heartbeat timeout of the workflows' activities (other than local ones). The worker has every attempt
 * heartbeat while it runs (worker/heartbeats.ts), so an attempt that never reports, because its worker was
 * killed or its completion was lost while the Temporal server was down, is retried after this long instead of
 * after its start-to-close timeout. A crash on billing day then holds up the contracts it hit for half a
 * minute, not two. Changing it changes no workflow's commands: histories replay as they were.
 */
export const ACTIVITY_HEARTBEAT_TIMEOUT = '30 seconds';
