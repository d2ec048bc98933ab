/** A node's resource summary counts every limit a plugin call breaches, by limit. */
import { describe, expect, it } from 'vitest';
import { NodeResources } from '../../src/topology/node-resources.js';
import { DEFAULT_LIMITS } from '../../src/contract/limits.js';
import { ERROR_CODES, WeirError } from '../../src/errors/errors.js';
import type { ErrorCode } from '../../src/errors/errors.js';

describe('NodeResources.limitBreaches', () => {
  it('counts each WEIR_LIMIT_* a plugin call can breach under its own name (state and metrics too)', () => {
    const resources = new NodeResources(DEFAULT_LIMITS);
    const fail = (code: ErrorCode, times: number) => {
      for (let i = 0; i < times; i++) resources.recordFailure(new WeirError(code, 'breach'));
    };
    fail('WEIR_LIMIT_MEMORY', 1);
    fail('WEIR_LIMIT_CPU', 2);
    fail('WEIR_LIMIT_OUTPUT', 3);
    fail('WEIR_LIMIT_STATE', 4);
    fail('WEIR_LIMIT_METRICS', 5);
    fail('WEIR_PLUGIN_TRAP', 6);
    fail('WEIR_PLUGIN_ERROR', 7);
    expect(resources.summary()).toMatchObject({ traps: 6, limitBreaches: { memory: 1, cpu: 2, output: 3, state: 4, metrics: 5 } });
  });

  it('has a count for every WEIR_LIMIT_* code but the sources\' line length (a connector\'s limit), zero until breached', () => {
    const limitCodes = Object.keys(ERROR_CODES).filter((code) => code.startsWith('WEIR_LIMIT_') && code !== 'WEIR_LIMIT_LINE_LENGTH');
    const resources = new NodeResources(DEFAULT_LIMITS);
    expect(Object.values(resources.summary().limitBreaches)).toEqual(limitCodes.map(() => 0));
    for (const code of limitCodes) resources.recordFailure(new WeirError(code as ErrorCode, 'breach'));
    expect(Object.values(resources.summary().limitBreaches)).toEqual(limitCodes.map(() => 1));
  });
});
