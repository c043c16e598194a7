// SPDX-License-Identifier: MIT
// The collector's pages in a real browser (Debian's chromium, driven by playwright-core), checked
// as a person would notice: the phone vote page in Ukrainian, in English and without JavaScript;
// the administration (sign-in, terminals, enrollment code, revoke, sign-out, the session cookie);
// the public report by unit. Certificates are checked for real: chromium trusts the demo server
// only through the SPKI pin of its key, and a browser without the pin must refuse the server.
// Screenshots of every page go to --out. Run by tests/collector/browser_pages.sh.
//
//   node pages.mjs --base https://127.0.0.1:PORT --vote-url URL --spki HASH --password PW
//                  --employee NAME --unit NAME [--unit-en NAME] --units N --out DIR
//                  [--chromium PATH]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: opt } = parseArgs({
    options: {
        base: { type: 'string' },
        'vote-url': { type: 'string' },
        spki: { type: 'string' },
        password: { type: 'string' },
        employee: { type: 'string' },
        unit: { type: 'string' },
        'unit-en': { type: 'string' },
        units: { type: 'string' },
        out: { type: 'string' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
});
for (const k of ['base', 'vote-url', 'spki', 'password', 'employee', 'unit', 'units', 'out'])
    if (!opt[k]) {
        console.error(`pages.mjs: --${k} is missing`);
        process.exit(2);
    }
const base = opt.base.replace(/\/$/, '');
const origin = new URL(base).origin;
mkdirSync(opt.out, { recursive: true });

const PAGE_MAX = 30 * 1024; // what one vote page may weigh, every response body together
const STEP_MS = 15000;      // no single step should take longer

const text = {
    uk: {
        locale: 'uk-UA',
        labels: ['Задовільно', 'Добре', 'Зразково'],
        send: 'Відправити відгук',
        thanks: 'Дякуємо за Ваш голос!',
        choose: 'Спершу оберіть оцінку.',
        badLogin: 'Неправильний логін або пароль.',
        signIn: 'Увійти',
        signOut: 'Вийти',
        terminals: 'Термінали',
        makeCode: 'Створити код',
        revoke: 'Відкликати',
        revoked: 'відкликано',
        reports: 'Результати оцінювання',
    },
    en: {
        locale: 'en-US',
        labels: ['Satisfactory', 'Good', 'Exemplary'],
        send: 'Send feedback',
        thanks: 'Thank you for your vote!',
        choose: 'Please choose a rating first.',
        badLogin: 'Wrong login or password.',
        signIn: 'Sign in',
        signOut: 'Sign out',
        terminals: 'Terminals',
        makeCode: 'Make a code',
        revoke: 'Revoke',
        revoked: 'revoked',
        reports: 'Rating results',
    },
};

let failures = 0;
function ok(what) {
    console.log(`ok: ${what}`);
}
function fail(what) {
    failures++;
    console.log(`FAIL: ${what}`);
}
// A known defect, reported on every run but not failed: see the KNOWN lines in the output.
function known(cond, what, detail = '') {
    if (cond)
        ok(what);
    else
        console.log(`KNOWN: ${what}${detail ? ` (${detail})` : ''}`);
    return cond;
}
function check(cond, what, detail = '') {
    if (cond)
        ok(what);
    else
        fail(detail ? `${what} (${detail})` : what);
    return cond;
}

const shots = [];
async function shot(page, name) {
    const path = join(opt.out, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    shots.push(path);
}

// Every request a page makes, every console error, and the bytes of every response body.
function watch(page, log) {
    page.on('request', (r) => log.requests.push(r.url()));
    page.on('requestfinished', (r) => log.pending.push(
        r.sizes().then((s) => { log.bytes += s.responseBodySize; }, () => {})));
    page.on('console', (m) => {
        // a 4xx answer is logged as an error, but the checks look at the status themselves;
        // and chromium asks every site for /favicon.ico by itself
        if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
            log.errors.push(m.text());
    });
    page.on('pageerror', (e) => log.errors.push(String(e)));
}

function path(page) {
    return new URL(page.url()).pathname;
}

// A section runs on; a step that throws fails it, with a screenshot of where it stood.
async function section(name, fn) {
    console.log(`--- ${name}`);
    const pages = [];
    try {
        await fn(pages);
    } catch (e) {
        fail(`${name}: ${e.message.split('\n')[0]}`);
        for (const [i, p] of pages.entries())
            await p.screenshot({ path: join(opt.out, `FAILED-${name}-${i}.png`), fullPage: true })
                .catch(() => {});
    }
}

// No pin, no trust: the development CA is not the browser's, so the page must not load.
await section('certificates', async () => {
    const b = await chromium.launch({ executablePath: opt.chromium });
    try {
        const page = await b.newPage();
        const err = await page.goto(`${base}/healthz`).then(() => null, (e) => e.message);
        check(/ERR_CERT_AUTHORITY_INVALID/.test(err ?? ''),
              'without the pin chromium refuses the demo certificate', err ?? 'it loaded');
    } finally {
        await b.close();
    }
});

const browser = await chromium.launch({
    executablePath: opt.chromium,
    args: [`--ignore-certificate-errors-spki-list=${opt.spki}`],
});
console.log(`chromium ${browser.version()}`);

function phone(lang, js) {
    return browser.newContext({
        viewport: { width: 360, height: 740 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        locale: text[lang].locale,
        javaScriptEnabled: js,
    });
}

// The vote page a printed QR code opens, on a phone: who is rated, three smileys, a tap, send.
async function voteFlow(name, lang, js, level, tryEmpty) {
    const t = text[lang];
    await section(name, async (pages) => {
        const ctx = await phone(lang, js);
        ctx.setDefaultTimeout(STEP_MS);
        try {
            const page = await ctx.newPage();
            pages.push(page);
            const log = { requests: [], errors: [], bytes: 0, pending: [] };
            watch(page, log);

            const resp = await page.goto(opt['vote-url']);
            await page.waitForLoadState('load');
            check(resp.status() === 200, `${name}: the vote page opens`, `HTTP ${resp.status()}`);
            check(await page.locator('html').getAttribute('lang') === lang, `${name}: page in ${lang}`);
            const h1 = (await page.locator('h1').innerText()).trim();
            check(h1 === opt.employee, `${name}: the employee's name is shown`, `"${h1}"`);
            const unit = (await page.locator('.unit').innerText()).trim();
            check(unit !== '', `${name}: the unit is shown`);
            if (lang === 'en' && opt['unit-en'])
                known(unit === opt['unit-en'], `${name}: the unit is named in English`, `"${unit}"`);
            const labels = (await page.locator('.faces label').allInnerTexts()).map((s) => s.trim());
            check(JSON.stringify(labels) === JSON.stringify(t.labels),
                  `${name}: three smileys labelled ${t.labels.join(', ')}`, JSON.stringify(labels));

            // what a phone user sees without scrolling: the faces side by side, equally large,
            // and the button; nothing wider than the screen
            const faces = [];
            for (const l of await page.locator('.faces label svg').all())
                faces.push(await l.boundingBox());
            check(faces.length === 3 && faces.every((f) => f && f.width >= 48 && f.height >= 48),
                  `${name}: every smiley is drawn at least 48 px large`,
                  JSON.stringify(faces.map((f) => f && Math.round(f.width))));
            const sizes = faces.map((f) => f?.width ?? 0);
            check(Math.max(...sizes) - Math.min(...sizes) <= 2, `${name}: the smileys are equally large`,
                  `widths ${sizes.map(Math.round).join(', ')} px`);
            check(faces.every((f) => f && Math.abs(f.y - faces[0].y) <= 1),
                  `${name}: the smileys stand in one row`);
            const button = page.getByRole('button', { name: t.send });
            const bb = await button.boundingBox();
            check(bb && bb.y + bb.height <= 740, `${name}: «${t.send}» is on the first screen`,
                  bb ? `its bottom at ${Math.round(bb.y + bb.height)} px` : 'no button');
            const sw = await page.evaluate(() => document.documentElement.scrollWidth);
            check(sw <= 360, `${name}: nothing wider than the 360 px screen`, `${sw} px`);
            await Promise.all(log.pending);
            check(log.bytes > 1000 && log.bytes <= PAGE_MAX,
                  `${name}: the page weighs ${log.bytes} bytes (at most ${PAGE_MAX})`);
            await shot(page, `${name}`);

            if (tryEmpty) {
                const r = page.waitForResponse((r) => r.request().method() === 'POST');
                await button.click();
                check((await r).status() === 400, `${name}: sending without a choice is refused`);
                await page.waitForLoadState('load');
                check((await page.locator('.err').innerText()).trim() === t.choose,
                      `${name}: it says «${t.choose}»`);
                await shot(page, `${name}-choose-first`);
            }

            await page.locator('.faces label').filter({ hasText: t.labels[level - 1] }).tap();
            check(await page.locator(`#l${level}`).isChecked(),
                  `${name}: tapping «${t.labels[level - 1]}» chooses it`);
            const border = await page.locator(`label[for=l${level}]`)
                .evaluate((e) => getComputedStyle(e).borderTopColor);
            const other = await page.locator(`label[for=l${level === 1 ? 2 : 1}]`)
                .evaluate((e) => getComputedStyle(e).borderTopColor);
            check(border !== other, `${name}: the chosen smiley is marked`, `${border} vs ${other}`);
            await page.waitForTimeout(600); // what stays on screen once the tap highlight is gone
            await shot(page, `${name}-chosen`);

            await Promise.all([page.waitForURL(/\/thanks(\?|$)/), page.getByRole('button', { name: t.send }).click()]);
            await page.waitForLoadState('load');
            check((await page.locator('h1').innerText()).trim() === t.thanks,
                  `${name}: lands on «${t.thanks}»`);
            await shot(page, `${name}-thanks`);

            const outside = log.requests.filter((u) => new URL(u).origin !== origin);
            check(outside.length === 0, `${name}: ${log.requests.length} requests, all to ${origin}`,
                  `outside: ${outside.join(' ')}`);
            check(log.errors.length === 0, `${name}: no errors in the console`, log.errors.join(' | '));
        } finally {
            await ctx.close();
        }
    });
}

await voteFlow('vote-uk', 'uk', true, 3, true);
await voteFlow('vote-en', 'en', true, 2, false);
await voteFlow('vote-uk-nojs', 'uk', false, 1, true);

// The administration, on a desktop screen.
const cookieRules = (c) => c && c.httpOnly && c.secure && c.sameSite === 'Strict';
function desktop(lang) {
    return browser.newContext({ viewport: { width: 1280, height: 800 }, locale: text[lang].locale });
}

async function signIn(page, t, password) {
    await page.locator('#login').fill('admin');
    await page.locator('#password').fill(password);
    const [resp] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/login')),
        page.getByRole('button', { name: t.signIn }).click(),
    ]);
    await page.waitForLoadState('load');
    return resp;
}

function terminalRow(page, id) {
    return page.locator('tbody tr').filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${id}$`) }) });
}

await section('admin-uk', async (pages) => {
    const t = text.uk;
    const ctx = await desktop('uk');
    ctx.setDefaultTimeout(STEP_MS);
    try {
        const page = await ctx.newPage();
        pages.push(page);
        const log = { requests: [], errors: [], bytes: 0, pending: [] };
        watch(page, log);

        await page.goto(`${base}/admin/terminals`);
        check(path(page) === '/login', 'admin-uk: a visitor to /admin/terminals is sent to /login', page.url());
        await shot(page, 'login-uk');

        let r = await signIn(page, t, 'not-the-password');
        check(r.status() === 401 && path(page) === '/login', 'admin-uk: a wrong password stays at /login',
              `HTTP ${r.status()} at ${page.url()}`);
        const alert = (await page.getByRole('alert').innerText()).trim();
        check(alert === t.badLogin, `admin-uk: it says «${t.badLogin}»`, `"${alert}"`);
        await shot(page, 'login-uk-wrong-password');

        r = await signIn(page, t, opt.password);
        check(path(page).startsWith('/admin'), 'admin-uk: the right password signs in', page.url());
        check((await page.locator('h1').innerText()).trim() === t.terminals, `admin-uk: lands on «${t.terminals}»`);
        check(await terminalRow(page, 'T001').count() === 1, 'admin-uk: the terminals page shows T001');
        const heads = await page.locator('thead th').count();
        const cells = await terminalRow(page, 'T001').locator('td').count();
        check(heads === cells, 'admin-uk: the terminals table has a heading for every column and no more',
              `${heads} headings, ${cells} cells in a row`);
        const cookies = await ctx.cookies(base);
        const session = cookies.find((c) => c.name === 'otsinka_session');
        check(cookieRules(session), 'admin-uk: the session cookie is HttpOnly, Secure, SameSite=Strict',
              JSON.stringify(session));
        const pre = cookies.find((c) => c.name === 'otsinka_pre');
        check(!pre || cookieRules(pre), 'admin-uk: the sign-in form cookie is HttpOnly, Secure, SameSite=Strict',
              JSON.stringify(pre));
        const sw = await page.evaluate(() => document.documentElement.scrollWidth);
        check(sw <= 1280, 'admin-uk: the terminals table fits a 1280 px screen', `${sw} px`);
        await shot(page, 'terminals-uk');

        await page.locator('#workplace').fill('W002');
        await page.getByRole('button', { name: t.makeCode }).click();
        await page.waitForLoadState('load');
        const code = (await page.locator('code.code').innerText()).trim();
        check(/^[0-9]{4}-[0-9]{4}-[0-9]{4}$/.test(code),
              'admin-uk: an enrollment code for W002 of the form 1234-5678-9012 is shown', `"${code}"`);
        await shot(page, 'terminals-uk-code');

        await Promise.all([
            page.waitForResponse((r) => r.url().includes('/admin/terminals/revoke')),
            terminalRow(page, 'T001').getByRole('button', { name: t.revoke }).click(),
        ]);
        await page.waitForLoadState('load');
        const row = terminalRow(page, 'T001');
        const state = (await row.locator('td.state').innerText()).trim();
        check(state === t.revoked && /\brevoked\b/.test(await row.getAttribute('class')),
              `admin-uk: after «${t.revoke}» the row of T001 shows «${t.revoked}»`, `"${state}"`);
        check(await row.getByRole('button', { name: t.revoke }).count() === 0,
              'admin-uk: a revoked terminal has no revoke button');
        await shot(page, 'terminals-uk-revoked');

        await page.getByRole('button', { name: t.signOut }).click();
        await page.waitForURL(/\/login(\?|$)/);
        check(path(page) === '/login', 'admin-uk: signing out goes back to /login');
        check(!(await ctx.cookies(base)).some((c) => c.name === 'otsinka_session'),
              'admin-uk: signing out drops the session cookie');
        await page.goto(`${base}/admin/terminals`);
        check(path(page) === '/login', 'admin-uk: after signing out /admin/terminals redirects to /login',
              page.url());
        check(log.requests.every((u) => new URL(u).origin === origin), 'admin-uk: every request same-origin');
        check(log.errors.length === 0, 'admin-uk: no errors in the console', log.errors.join(' | '));
    } finally {
        await ctx.close();
    }
});

await section('admin-en', async (pages) => {
    const t = text.en;
    const ctx = await desktop('en');
    ctx.setDefaultTimeout(STEP_MS);
    try {
        const page = await ctx.newPage();
        pages.push(page);
        await page.goto(`${base}/login`);
        check(await page.locator('html').getAttribute('lang') === 'en', 'admin-en: the sign-in page is in English');
        await shot(page, 'login-en');
        await signIn(page, t, 'not-the-password');
        check((await page.getByRole('alert').innerText()).trim() === t.badLogin, `admin-en: it says «${t.badLogin}»`);
        await shot(page, 'login-en-wrong-password');
        await signIn(page, t, opt.password);
        check((await page.locator('h1').innerText()).trim() === t.terminals, `admin-en: lands on «${t.terminals}»`);
        const state = (await terminalRow(page, 'T001').locator('td.state').innerText()).trim();
        check(state === t.revoked, `admin-en: T001 shows «${t.revoked}»`, `"${state}"`);
        await page.locator('#workplace').fill('W003');
        await page.getByRole('button', { name: t.makeCode }).click();
        await page.waitForLoadState('load');
        check(/^[0-9]{4}-[0-9]{4}-[0-9]{4}$/.test((await page.locator('code.code').innerText()).trim()),
              'admin-en: an enrollment code for W003 is shown');
        await shot(page, 'terminals-en-code');
        await page.locator('#workplace').fill('W999');
        await page.getByRole('button', { name: t.makeCode }).click();
        await page.waitForLoadState('load');
        check((await page.getByRole('alert').innerText()).trim() === 'No such workplace.',
              'admin-en: a code for an unknown workplace is refused');
        await page.getByRole('button', { name: t.signOut }).click();
        await page.waitForURL(/\/login(\?|$)/);
        check(path(page) === '/login', 'admin-en: signing out goes back to /login');
    } finally {
        await ctx.close();
    }
});

// The organisation's record forms: an administrator adds an employee through the form and then
// changes their position; an official of one department, made on the users page, cannot open
// an employee of another one by typing its address.
await section('org-edit', async (pages) => {
    const t = text.uk;
    const ctx = await desktop('uk');
    ctx.setDefaultTimeout(STEP_MS);
    const officialPassword = 'Official-pass-2026';
    try {
        const page = await ctx.newPage();
        pages.push(page);
        const log = { requests: [], errors: [], bytes: 0, pending: [] };
        watch(page, log);
        await page.goto(`${base}/login`);
        await signIn(page, t, opt.password);
        await page.goto(`${base}/admin/org`);
        check((await page.locator('h2').first().innerText()).trim() === 'Підрозділи',
              'org-edit: the organisation page opens with the units');
        const sw = await page.evaluate(() => document.documentElement.scrollWidth);
        check(sw <= 1280, 'org-edit: the organisation page fits a 1280 px screen', `${sw} px`);
        await shot(page, 'org-uk');

        // the tree as the page shows it: a department (depth 1) and the employees outside it
        const units = await page.locator('#org-units tbody tr').evaluateAll((trs) => trs.map((tr) => ({
            code: tr.cells[0].innerText.trim(),
            depth: Number(tr.cells[2].className.replace(/^d/, '')) || 0,
        })));
        const employees = await page.locator('#org-employees tbody tr').evaluateAll((trs) => trs.map((tr) => ({
            no: tr.cells[0].innerText.trim(), unit: tr.dataset.unit,
        })));
        const top = units.findIndex((u) => u.depth === 1);
        const subtree = [];
        for (let i = top; i >= 0 && i < units.length && (i === top || units[i].depth > 1); i++)
            subtree.push(units[i].code);
        const outside = employees.find((e) => !subtree.includes(e.unit));
        const inside = subtree[subtree.length - 1];
        check(top >= 0 && outside && subtree.length > 1,
              'org-edit: the demo has a department with sections and employees elsewhere',
              JSON.stringify({ subtree, outside }));

        await page.getByRole('link', { name: '+ Додати працівника' }).click();
        await page.waitForLoadState('load');
        check((await page.locator('h1').innerText()).trim() === 'Новий працівник',
              'org-edit: «+ Додати працівника» opens the form');
        await page.locator('#f-personal_no').fill('E100');
        await page.locator('#f-full_name').fill('Гнатюк Оксана Василівна');
        await page.locator('#f-position').fill('Спеціаліст ЦНАП');
        await page.locator('#f-unit').selectOption(inside);
        await shot(page, 'org-employee-new');
        await Promise.all([page.waitForURL(/code=E100/), page.getByRole('button', { name: 'Зберегти' }).click()]);
        await page.waitForLoadState('load');
        check((await page.getByRole('status').innerText()).trim() === 'Збережено.',
              'org-edit: the new employee is saved');
        check(await page.locator('#f-full_name').inputValue() === 'Гнатюк Оксана Василівна',
              'org-edit: the form shows the saved employee');

        await page.locator('#f-position').fill('Головний спеціаліст ЦНАП');
        await Promise.all([page.waitForURL(/done=saved/), page.getByRole('button', { name: 'Зберегти' }).click()]);
        await page.waitForLoadState('load');
        check(await page.locator('#f-position').inputValue() === 'Головний спеціаліст ЦНАП',
              'org-edit: the changed position is kept');
        await shot(page, 'org-employee-saved');

        // a personal number that is taken: said on the form, the typed name kept
        await page.goto(`${base}/admin/org/employee`);
        await page.locator('#f-personal_no').fill('E100');
        await page.locator('#f-full_name').fill('Двійник Петро');
        await page.locator('#f-position').fill('Спеціаліст');
        await page.locator('#f-unit').selectOption(inside);
        const [dup] = await Promise.all([
            page.waitForResponse((r) => r.request().method() === 'POST'),
            page.getByRole('button', { name: 'Зберегти' }).click(),
        ]);
        await page.waitForLoadState('load');
        check(dup.status() === 409 && /вже має інший запис/.test(await page.getByRole('alert').innerText()),
              'org-edit: a taken personal number is refused on the form', `HTTP ${dup.status()}`);
        check(await page.locator('#f-full_name').inputValue() === 'Двійник Петро',
              'org-edit: the refused form keeps what was typed');
        await shot(page, 'org-employee-taken');

        await page.goto(`${base}/admin/org`);
        const row = page.locator('#org-employees tbody tr').filter({ hasText: 'E100' });
        check((await row.locator('td').nth(2).innerText()).trim() === 'Головний спеціаліст ЦНАП',
              'org-edit: the organisation page lists the new position');

        // a unit's form, in English
        await page.goto(`${base}/admin/org/unit?code=${subtree[1]}&lang=en`);
        check((await page.locator('h1').innerText()).trim() === 'Unit' &&
              await page.locator('#f-parent').inputValue() === subtree[0],
              `org-edit: the form of ${subtree[1]} opens in English with its parent chosen`);
        await shot(page, 'org-unit-en');

        // an official of the department, made on the users page
        await page.goto(`${base}/admin/users`);
        await page.locator('#login').fill('official1');
        await page.locator('#role').selectOption('official');
        await page.locator('#unit').fill(subtree[0]);
        await page.locator('#password').fill(officialPassword);
        await page.getByRole('button', { name: 'Додати користувача' }).click();
        await page.waitForLoadState('load');
        await page.getByRole('button', { name: t.signOut }).click();
        await page.waitForURL(/\/login(\?|$)/);

        await page.locator('#login').fill('official1');
        await page.locator('#password').fill(officialPassword);
        await Promise.all([page.waitForURL(/\/admin\//), page.getByRole('button', { name: t.signIn }).click()]);
        let r = await page.goto(`${base}/admin/org/employee?code=E100`);
        check(r.status() === 200, 'org-edit: the official opens an employee of the department', `HTTP ${r.status()}`);
        r = await page.goto(`${base}/admin/org/employee?code=${outside.no}`);
        check(r.status() === 404, `org-edit: the official cannot open ${outside.no} outside the department`,
              `HTTP ${r.status()}`);
        check((await page.locator('p.err').innerText()).trim() === 'Сторінку не знайдено.',
              'org-edit: it says «Сторінку не знайдено.»');
        await shot(page, 'org-official-outside');
        await page.goto(`${base}/admin/org`);
        const listed = await page.locator('#org-employees tbody tr td:first-child').allInnerTexts();
        check(listed.includes('E100') && !listed.includes(outside.no),
              'org-edit: the official\'s organisation page lists only the department', listed.join(' '));
        await shot(page, 'org-official');
        check(log.errors.length === 0, 'org-edit: no errors in the console', log.errors.join(' | '));
    } finally {
        await ctx.close();
    }
});

// The public report: the unit tree, each unit summing its subtree, with the three votes above.
async function reports(name, lang, viewport) {
    const t = text[lang];
    await section(name, async (pages) => {
        const small = viewport.width < 600;
        const ctx = await browser.newContext({ viewport, locale: t.locale, isMobile: small, hasTouch: small });
        ctx.setDefaultTimeout(STEP_MS);
        try {
            const page = await ctx.newPage();
            pages.push(page);
            const resp = await page.goto(`${base}/reports`);
            check(resp.status() === 200, `${name}: /reports opens`);
            check((await page.locator('h1').innerText()).trim() === t.reports, `${name}: titled «${t.reports}»`);
            const rows = await page.locator('#units tbody tr').evaluateAll((trs) => trs.map((tr) => {
                const c = [...tr.cells];
                return {
                    depth: Number(c[0].className.replace(/^d/, '')) || 0,
                    indent: c[0].getBoundingClientRect().left + parseFloat(getComputedStyle(c[0]).paddingLeft),
                    name: c[0].innerText.trim(),
                    counts: c.slice(1).map((x) => x.innerText.trim()),
                };
            }));
            check(rows.length === Number(opt.units), `${name}: one row per unit (${opt.units})`, `${rows.length} rows`);
            check(rows.length > 0 && rows[0].depth === 0, `${name}: the tree starts at its root`,
                  rows[0]?.name);
            let tree = true;
            for (let i = 1; i < rows.length; i++)
                if (rows[i].depth < 1 || rows[i].depth > rows[i - 1].depth + 1)
                    tree = false;
            check(tree, `${name}: rows come in tree order below the root`);
            let indent = true;
            for (let i = 1; i < rows.length; i++)
                if (rows[i].depth > rows[i - 1].depth && !(rows[i].indent > rows[i - 1].indent + 8))
                    indent = false;
            check(indent, `${name}: each level is indented further than its parent`,
                  JSON.stringify(rows.map((r) => [r.depth, Math.round(r.indent)])));
            // the unit of the employee voted for: by its English name where it has one, in English
            const unitEn = lang === 'en' && opt['unit-en'] ? opt['unit-en'] : null;
            let voted = rows.find((r) => r.name === (unitEn ?? opt.unit));
            if (unitEn)
                known(voted, `${name}: units are named in English`,
                      `no row "${unitEn}"; rows: ${rows.map((r) => r.name).join(', ')}`);
            voted ??= rows.find((r) => r.name === opt.unit);
            check(voted?.counts.join(' ') === '1 1 1 3 50.0',
                  `${name}: the unit of ${opt.employee} shows the three votes (1 1 1, total 3, index 50.0)`,
                  JSON.stringify(rows.map((r) => [r.name, ...r.counts])));
            check(rows[0]?.counts[3] === '3', `${name}: the root sums its subtree`, rows[0]?.counts.join(' '));
            const right = await page.locator('#units tbody tr').first().locator('td').nth(1)
                .evaluate((e) => getComputedStyle(e).textAlign);
            check(right === 'right', `${name}: the numbers are right-aligned`, right);
            const sw = await page.evaluate(() => document.documentElement.scrollWidth);
            (viewport.width < 600 ? known : check)(sw <= viewport.width,
                `${name}: the report fits the ${viewport.width} px screen`, `${sw} px wide`);
            await shot(page, name);
        } finally {
            await ctx.close();
        }
    });
}

await reports('reports-uk', 'uk', { width: 1280, height: 800 });
await reports('reports-en', 'en', { width: 1280, height: 800 });
await reports('reports-uk-phone', 'uk', { width: 360, height: 740 });

await browser.close();
console.log(`screenshots: ${shots.length} in ${opt.out}`);
if (failures) {
    console.log(`${failures} check(s) failed`);
    process.exit(1);
}
console.log('browser pages: ok');
