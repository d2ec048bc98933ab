/** The wrapping entry of a JS build lives in a folder with a predictable name: it must be ours alone. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGuardedJsEntry } from '../../src/build/js-entry.js';
import { REPO_ROOT } from '../../src/build/plugin-build.js';

describe('the guarded JS entry', () => {
  it('refuses a folder that others may write (another user could swap the entry before the build reads it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-entry-'));
    const entry = join(dir, 'index.js');
    await writeFile(entry, 'export function configure() {}\nexport function process(batch) { return batch; }\n');
    const { folder } = await writeGuardedJsEntry(entry, 'processor', REPO_ROOT);
    try {
      await chmod(folder, 0o777);
      await expect(writeGuardedJsEntry(entry, 'processor', REPO_ROOT)).rejects.toMatchObject({ code: 'WEIR_PLUGIN_BUILD_FAILED' });
      await chmod(folder, 0o755);
      await expect(writeGuardedJsEntry(entry, 'processor', REPO_ROOT)).resolves.toMatchObject({ folder });
    } finally {
      await rm(folder, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
