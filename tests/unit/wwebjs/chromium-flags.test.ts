import { describe, expect, it } from 'vitest';
import { chromiumFlags, puppeteerOptions } from '../../../src/actors/engines/wwebjs-chromium.js';

const base = { profileDir: '/data/wwebjs/RemoteAuth-t1', isRoot: false, rendererHeapMb: 512 };

describe('Chromium launch options', () => {
  it('lists the low-memory headless flags and the profile folder', () => {
    const flags = chromiumFlags(base);
    for (const flag of [
      '--headless=new',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--disable-extensions',
      '--renderer-process-limit=2',
      '--js-flags=--max-old-space-size=512',
      '--user-data-dir=/data/wwebjs/RemoteAuth-t1',
    ]) {
      expect(flags).toContain(flag);
    }
  });

  it('switches the sandbox off only for root', () => {
    expect(chromiumFlags(base)).not.toContain('--no-sandbox');
    expect(chromiumFlags({ ...base, isRoot: true })).toContain('--no-sandbox');
  });

  it('adds the per-session proxy', () => {
    expect(chromiumFlags({ ...base, proxyServer: 'socks5://10.0.0.2:1080' })).toContain('--proxy-server=socks5://10.0.0.2:1080');
    expect(chromiumFlags(base).some((f) => f.startsWith('--proxy-server'))).toBe(false);
  });

  it('launches through setpriv with the parent-death signal when it is there', () => {
    const viaSetpriv = puppeteerOptions({ ...base, chromiumPath: '/usr/bin/chromium', setprivPath: '/usr/bin/setpriv' }, 30_000);
    expect(viaSetpriv.executablePath).toBe('/usr/bin/setpriv');
    expect(viaSetpriv.args.slice(0, 4)).toEqual(['--pdeathsig', 'SIGKILL', '--', '/usr/bin/chromium']);
    const direct = puppeteerOptions({ ...base, chromiumPath: '/usr/bin/chromium', setprivPath: null }, 30_000);
    expect(direct.executablePath).toBe('/usr/bin/chromium');
    expect(direct.args[0]).toBe('--headless=new');
  });

  it('owns every flag, talks DevTools over a pipe and leaves signals to the actor runtime', () => {
    const opts = puppeteerOptions({ ...base, chromiumPath: '/usr/bin/chromium', setprivPath: null }, 30_000);
    expect(opts).toMatchObject({
      ignoreDefaultArgs: true,
      pipe: true,
      userDataDir: base.profileDir,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  });
});
