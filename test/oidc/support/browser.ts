// A minimal scripted browser for the OIDC tests: cookie jar, manual redirects, form extraction,
// and "play the user" loops for oidc-provider's pages.

/** A minimal browser: a cookie jar, manual redirects, and HTML form extraction. */
export class TestBrowser {
  private readonly cookies = new Map<string, string>();

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; url: string; location: string | undefined; body: string }> {
    const headers: Record<string, string> = {};
    const target = new URL(url);
    const cookie = this.cookieHeader();
    if (cookie !== '') headers['cookie'] = cookie;
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, redirect: 'manual', ...(body === undefined ? {} : { body }) });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      if (pair === undefined) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const location = response.headers.get('location') ?? undefined;
    return { status: response.status, url: target.href, location: location === undefined ? undefined : new URL(location, target).href, body: await response.text() };
  }

  /** GET url and follow redirects (up to a bound) while they stay on `origins`; returns the last response. */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}, stopAt?: (url: string) => boolean) {
    let response = await this.request(url, init);
    for (let hops = 0; hops < 20 && response.location !== undefined; hops++) {
      if (stopAt?.(response.location) === true) return response;
      response = await this.request(response.location);
    }
    return response;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The first form in the page: its absolute action and its hidden inputs. */
export function extractForm(page: { url: string; body: string }, id?: string): { action: string; fields: Record<string, string> } {
  const forms = [...page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const match = forms.find((f) => id === undefined || (f[1] ?? '').includes(`id="${id}"`));
  if (match === undefined) throw new Error(`no form${id === undefined ? '' : ` ${id}`} in page ${page.url}: ${page.body.slice(0, 300)}`);
  const action = /action="([^"]*)"/.exec(match[1] ?? '')?.[1] ?? page.url;
  const fields: Record<string, string> = {};
  for (const input of (match[2] ?? '').matchAll(/<input\b([^>]*)>/g)) {
    const attrs = input[1] ?? '';
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    const value = /value="([^"]*)"/.exec(attrs)?.[1];
    if (name !== undefined && value !== undefined) fields[name] = value.replace(/&amp;/g, '&');
  }
  return { action: new URL(action.replace(/&amp;/g, '&'), page.url).href, fields };
}

type Page = { status: number; url: string; location: string | undefined; body: string };

/**
 * Play the user of the device flow: open verification_uri_complete, confirm the code, sign in as
 * `login`, then consent (or abort when `deny`). Returns the final page body.
 */
export async function approveDeviceCode(verificationUriComplete: string, login: string, opts: { deny?: boolean } = {}): Promise<string> {
  const browser = new TestBrowser();
  const last = await playUser(browser, await browser.request(verificationUriComplete), login, opts);
  return last.body;
}

/**
 * Drive the provider's pages like a user would, until a redirect leaves the provider (returned
 * with its location) or a page without anything to do (returned as is).
 */
export async function playUser(browser: TestBrowser, page: Page, login: string, opts: { deny?: boolean; providerOrigin?: string } = {}): Promise<Page> {
  const origin = opts.providerOrigin ?? new URL(page.url).origin;
  for (let step = 0; step < 30; step++) {
    if (page.location !== undefined) {
      if (new URL(page.location).origin !== origin) return page;
      page = await browser.request(page.location);
      continue;
    }
    if (page.body.includes('document.forms[0].submit()') || page.body.includes('id="op.deviceConfirmForm"')) {
      const form = extractForm(page);
      page = await browser.request(form.action, { form: form.fields });
    } else if (page.body.includes('name="prompt" value="login"')) {
      const form = extractForm(page);
      page = await browser.request(form.action, { form: { ...form.fields, login, password: 'any' } });
    } else if (page.body.includes('name="prompt" value="consent"')) {
      if (opts.deny === true) {
        const abort = /href="([^"]*abort[^"]*)"/.exec(page.body)?.[1];
        if (abort === undefined) throw new Error('no abort link on consent page');
        page = await browser.request(new URL(abort.replace(/&amp;/g, '&'), page.url).href);
      } else {
        const form = extractForm(page);
        page = await browser.request(form.action, { form: form.fields });
      }
    } else {
      return page;
    }
  }
  throw new Error('the provider pages did not settle');
}
