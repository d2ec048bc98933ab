/// <reference path="./weir-plugin-types.d.ts" />
declare module 'weir:plugin/http@0.1.0' {
  /**
   * Sends `request` and waits for the whole response; any status is a
   * response. Redirects are followed (at most 5), to granted hosts only.
   * Errors: `invalid-input` when the host is not granted, the URL or method
   * is malformed or the body is over the grant's `maxResponseBytes`;
   * `transient` on timeout (`timeoutMs`) or when the connection fails.
   */
  export function send(request: Request): Response;
  export type Error = import('weir:plugin/types@0.1.0').Error;
  export interface Request {
    /**
     * GET, POST, ... (any HTTP method token).
     */
    method: string,
    /**
     * An absolute http or https URL.
     */
    url: string,
    headers: Array<[string, string]>,
    /**
     * Empty: no body.
     */
    body: Uint8Array,
  }
  export interface Response {
    status: number,
    headers: Array<[string, string]>,
    body: Uint8Array,
  }
}
