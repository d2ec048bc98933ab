/**
 * What a node grants its plugin beyond the Weir host interfaces, as the
 * config declares it and the linker enforces it (linker/capabilities.ts
 * documents each capability and how an import maps to one).
 */
import type { HttpGrant } from './http-grant.js';

/** A directory a node grants: host folder (absolute), its path for the plugin, and whether it may write. */
export interface PreopenGrant {
  readonly dir: string;
  readonly as: string;
  readonly mode: 'ro' | 'rw';
  /** `rw`: the most the files under the folder may hold (see DirectoryQuota); absent: {@link DEFAULT_GRANT_MAX_BYTES}. */
  readonly maxBytes?: number;
}

/** The default `maxBytes` of an `rw` grant: 1 GiB. */
export const DEFAULT_GRANT_MAX_BYTES = 1 << 30;

/** What a node grants its plugin. */
export interface CapabilityGrants {
  /** Environment variables the plugin may read, by name. */
  readonly env: readonly string[];
  readonly clock: boolean;
  readonly random: boolean;
  /** Directories the plugin may open (absolute host folders). */
  readonly filesystem: readonly PreopenGrant[];
  /** Hosts the plugin may send HTTP requests to; absent: none. */
  readonly http?: HttpGrant;
}

/** Nothing granted: the default. */
export const NO_GRANTS: CapabilityGrants = { env: [], clock: false, random: false, filesystem: [] };
