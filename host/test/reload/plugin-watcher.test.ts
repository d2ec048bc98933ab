/**
 * The plugin watcher survives a failure of watching itself: chokidar reports
 * errors (inotify's watch limit, ENOSPC) as an `error` event, which throws
 * from the emitter when nobody listens. It must reach `onError` instead.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';
import { PluginWatcher } from '../../src/reload/plugin-watcher.js';

describe('PluginWatcher', () => {
  it('hands a watch failure to onError, with a hint for the watch limit, instead of throwing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-watch-'));
    const file = join(dir, 'p.wasm');
    await writeFile(file, 'v1');
    let chokidar: FSWatcher | undefined;
    const failures: Array<{ error: unknown; message: string; folders: readonly string[] }> = [];
    const watcher = await PluginWatcher.start([file], () => {}, 20, {
      onError: (error, message, folders) => failures.push({ error, message, folders }),
      watch: (paths, options) => (chokidar = watch(paths, options)),
    });
    try {
      const limit = Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
      expect(() => chokidar!.emit('error', limit)).not.toThrow();
      expect(failures).toHaveLength(1);
      expect(failures[0]!.error).toBe(limit);
      expect(failures[0]!.folders).toEqual([dir]);
      expect(failures[0]!.message).toContain(`watching ${dir} for new plugin builds failed`);
      expect(failures[0]!.message).toContain('fs.inotify.max_user_watches');
    } finally {
      await watcher.close();
    }
  });
});
