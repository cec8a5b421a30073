import type { Logger } from 'pino';
import type { AccessView } from '../access/accessPolicy';
import type { AccessAudit } from '../audit/AccessAudit';
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
  /** What the caller may read for its purpose (grants valid now); loaded once per request. */
  access(): Promise<AccessView>;
  /** The access view once `access()` has resolved (field guards read it without awaiting). */
  accessView?: AccessView;
  /** What the request did with data, for its access record. */
  audit: AccessAudit;
  /**
   * Set by the HTTP handler that serializes the response itself: the access-record plugin then
   * starts the record's write and leaves it in this slot instead of waiting for it, and the handler
   * waits for it after the response is serialized, before any byte of it leaves
   * (accessRecordPlugin.ts). A slot object, because Apollo gives each operation a shallow copy of
   * the context. Unset, the plugin waits itself.
   */
  recordWrite?: RecordWriteSlot;
}

/** An access record being written, and the answer to give instead of the response if it fails. */
export interface RecordWriteSlot {
  /** Settles once the record is committed (null) or could not be written (the error answer). */
  failed?: Promise<{ status: number; body: string } | null>;
}
