/**
 * The recordings web page in headless Chromium (Debian package `chromium`, driven by
 * playwright-core): sign in with the token, find the session in the list, open its player,
 * and see the recorded text rendered by asciinema-player (served by the admin listener).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRecordingRoutes } from '../../src/admin/recordings.js';
import { AdminServer } from '../../src/admin/server.js';
import { enc, openTestSession } from '../recording/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn('skipping the recordings web page test: /usr/bin/chromium missing (Debian package chromium)');

const TOKEN = 'browser-test-token-0123456789abcdef';

describe.skipIf(!hasChromium)('recordings web page in headless Chromium', () => {
  let admin: AdminServer;
  let root: string;
  let browser: Browser;
  let sessionId: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gh-ui-browser-'));
    const { rec } = await openTestSession(root);
    sessionId = rec.dir.split('/').pop() ?? '';
    const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 80, rows: 24, term: 'xterm-256color' } });
    ch.output(enc('$ echo gatehouse\r\n'), 'stdout');
    ch.output(enc('\u001b[32mrecorded-by-gatehouse\u001b[0m \u00e9t\u00e9 \r\n'), 'stdout');
    await rec.closeChannel(ch);
    await rec.finish();
    admin = new AdminServer({ token: TOKEN });
    registerRecordingRoutes(admin, { recordingsDir: root, token: TOKEN });
    await admin.listen('127.0.0.1', 0);
    // playwright-core gives every launch a fresh temporary profile (its own --user-data-dir).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await admin?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('signs in, lists the session and plays its text in asciinema-player', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('pageerror', (e) => failed.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') failed.push(`console: ${m.text()}`);
    });
    page.on('requestfailed', (r) => failed.push(`requestfailed: ${r.url()}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(admin.url())) failed.push(`external request: ${r.url()}`);
    });

    // Without the cookie the page sends the browser to the login form.
    await page.goto(`${admin.url()}/ui/`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.fill('input[name=token]', TOKEN);
    await Promise.all([page.waitForURL(`${admin.url()}/ui/`), page.click('button[type=submit]')]);

    const row = page.locator(`tr[data-session="${sessionId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('alice@example.com');
    await Promise.all([page.waitForURL(/\/ui\/play\//), row.locator('a').first().click()]);

    await expect.poll(async () => (await page.locator('#player').textContent()) ?? '', { timeout: 20_000, interval: 100 }).toContain('recorded-by-gatehouse');
    const text = (await page.locator('#player').textContent()) ?? '';
    expect(text).toContain('$ echo gatehouse');
    expect(text).toContain('recorded-by-gatehouse été');
    // The player's own DOM is there (it rendered, not just our page).
    expect(await page.locator('#player .ap-player, #player .ap-wrapper').count()).toBeGreaterThan(0);
    expect(failed).toEqual([]);
    await page.close();
  }, 60_000);

  it('a fresh browser without the token cannot fetch a cast', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${admin.url()}/ui/cast/${sessionId}/channel-0.cast`);
    expect(res?.status()).toBe(401);
    await context.close();
  }, 30_000);
});
