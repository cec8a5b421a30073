import type { Logger } from 'pino';
import type { Principal, Purpose } from '../auth/Principal';
import type { GatewayServices } from './GatewayServices';

/**
 * Per-request state, created for every HTTP request before any resolver runs: every resolver
 * knows who asks (principal) and for what (purpose). Loaders and caches made here never
 * outlive the request.
 */
export interface RequestContext {
  requestId: string;
  principal: Principal | null;
  purpose: Purpose | null;
  log: Logger;
  services: GatewayServices;
}
