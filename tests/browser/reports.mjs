// SPDX-License-Identifier: MIT
// The reports in a real browser (Debian's chromium, driven by playwright-core), as a member of
// the public and a signed-in administrator would meet them: the public page with results by
// unit and by direction, its open data (CSV), then the dashboard from the whole city down to
// one unit and one employee, with the server-drawn trend chart and weekday x hour heatmap (of
// the employee and of one direction too), and
// the monthly report's PDF. No page may run a script. Screenshots go to --out.
// Run by tests/reports/browser_reports.sh (after the pattern of tests/collector/browser_pages.sh).
//
//   node reports.mjs --base https://127.0.0.1:PORT --spki HASH --password PW --month YYYY-MM
//                    --unit NAME --employee NAME --out DIR [--chromium PATH]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: opt } = parseArgs({
    options: {
        base: { type: 'string' },
        spki: { type: 'string' },
        password: { type: 'string' },
        month: { type: 'string' },
        unit: { type: 'string' },
        employee: { type: 'string' },
        out: { type: 'string' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
});
for (const k of ['base', 'spki', 'password', 'month', 'unit', 'employee', 'out'])
    if (!opt[k]) {
        console.error(`reports.mjs: --${k} is missing`);
        process.exit(2);
    }
const base = opt.base.replace(/\/$/, '');
mkdirSync(opt.out, { recursive: true });
const STEP_MS = 15000;

let failures = 0;
function check(cond, what, detail = '') {
    console.log(cond ? `ok: ${what}` : `FAIL: ${what}${detail ? ` (${detail})` : ''}`);
    if (!cond)
        failures++;
    return cond;
}
async function section(name, fn) {
    console.log(`--- ${name}`);
    const pages = [];
    try {
        await fn(pages);
    } catch (e) {
        check(false, `${name}: ${e.message.split('\n')[0]}`);
        for (const p of pages)
            console.log(`  at ${p.url()}: ${(await p.locator('body').innerText().catch(() => '?')).slice(0, 300)}`);
        for (const [i, p] of pages.entries())
            await p.screenshot({ path: join(opt.out, `FAILED-${name}-${i}.png`), fullPage: true })
                .catch(() => {});
    }
}
function scriptless(page, log) {
    page.on('console', (m) => { if (m.type() === 'error') log.push(m.text()); });
    page.on('pageerror', (e) => log.push(String(e)));
}

const browser = await chromium.launch({
    executablePath: opt.chromium,
    args: [`--ignore-certificate-errors-spki-list=${opt.spki}`],
});

await section('public', async (pages) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'uk-UA' });
    // ctx.request runs in node: it trusts the demo CA through NODE_EXTRA_CA_CERTS
    ctx.setDefaultTimeout(STEP_MS);
    try {
        const page = await ctx.newPage();
        pages.push(page);
        const errors = [];
        scriptless(page, errors);
        const resp = await page.goto(`${base}/reports?period=${opt.month}`);
        check(resp.status() === 200, 'the public page opens without signing in');
        check(await page.locator('script').count() === 0, 'the public page has no script');
        const units = await page.locator('#units tbody tr').count();
        check(units > 1, 'results by unit', `${units} rows`);
        const root = await page.locator('#units tbody tr').first().locator('td').nth(4).innerText();
        check(Number(root) > 0, 'the root sums the month\'s votes', root);
        const dirs = await page.locator('#directions tbody tr').count();
        check(dirs > 0, 'results by direction of service', `${dirs} rows`);
        check(await page.locator('#employees').count() === 0,
              'no per-employee results where the city does not publish them');
        await page.screenshot({ path: join(opt.out, 'reports-public.png'), fullPage: true });
        const csvLink = page.locator(`a[href="/open/v1/units/${opt.month}.csv"]`);
        check(await csvLink.count() === 1, 'the page links its open data');
        const csv = await ctx.request.get(`${base}/open/v1/units/${opt.month}.csv`);
        const body = await csv.text();
        check(csv.status() === 200 && body.startsWith('period,id,code,parent,name,'),
              'the open data CSV downloads with its header', body.slice(0, 60));
        check(body.includes(opt.unit), 'the CSV names the units', opt.unit);
        check(errors.length === 0, 'no errors in the console', errors.join('; '));
    } finally {
        await ctx.close();
    }
});

await section('dashboard', async (pages) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'uk-UA' });
    ctx.setDefaultTimeout(STEP_MS);
    try {
        const page = await ctx.newPage();
        pages.push(page);
        const errors = [];
        scriptless(page, errors);
        await page.goto(`${base}/dashboard?period=${opt.month}`);
        check(new URL(page.url()).pathname === '/login', 'the dashboard asks to sign in first');
        await page.locator('#login').fill('admin');
        await page.locator('#password').fill(opt.password);
        await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Увійти' }).click()]);
        await page.goto(`${base}/dashboard?period=${opt.month}`);
        check((await page.locator('h1').innerText()).trim() === 'Панель звітів', 'the dashboard opens');
        check(await page.locator('script').count() === 0, 'the dashboard has no script');
        const trend = page.locator('svg.trend');
        check(await trend.isVisible(), 'the trend chart is drawn');
        const box = await trend.boundingBox();
        check(box && box.width > 400 && box.height > 100, 'the trend chart has a size', JSON.stringify(box));
        check(await trend.locator('circle').count() > 0, 'the trend has points');
        const cells = await page.locator('svg.heat rect').count();
        check(cells === 7 * 24, 'the heatmap has 7 x 24 cells', String(cells));
        const filled = await page.locator('svg.heat rect:not([fill="#eee"])').count();
        check(filled > 0, 'some hours have votes', String(filled));
        check(await page.locator('#compare tbody tr').count() === 3,
              'the period beside the one before and a year earlier');
        await page.screenshot({ path: join(opt.out, 'dashboard-city.png'), fullPage: true });

        // down to the employee's unit, by its row in the ranking
        await Promise.all([page.waitForNavigation(),
            page.locator('#rank-units a', { hasText: opt.unit }).first().click()]);
        check((await page.locator('.crumbs').innerText()).includes(opt.unit),
              'drilled down to the unit', await page.locator('.crumbs').innerText());
        await page.screenshot({ path: join(opt.out, 'dashboard-unit.png'), fullPage: true });
        await Promise.all([page.waitForNavigation(),
            page.locator('#rank-employees a', { hasText: opt.employee }).first().click()]);
        check((await page.locator('#employee').innerText()).trim() === opt.employee,
              'and down to one employee', await page.locator('#employee').innerText());
        check(await page.locator('svg.trend').isVisible(), 'the employee has a trend too');
        await page.screenshot({ path: join(opt.out, 'dashboard-employee.png'), fullPage: true });
        // the heatmap follows the selection: the employee's own, and the city's by a direction
        const empFilled = await page.locator('svg.heat rect:not([fill="#eee"])').count();
        check(empFilled > 0 && empFilled <= filled, 'the employee has a heatmap of their own',
              `${empFilled} of the city's ${filled} hours`);
        await page.locator('svg.heat').screenshot({ path: join(opt.out, 'heatmap-employee.png') });
        await page.goto(`${base}/dashboard?period=${opt.month}`);
        await Promise.all([page.waitForNavigation(),
            page.locator('#by-direction a').first().click()]);
        check(await page.locator('.crumbs .filter').count() === 1, 'drilled down to one direction',
              await page.locator('.crumbs').innerText());
        const dirFilled = await page.locator('svg.heat rect:not([fill="#eee"])').count();
        check(dirFilled > 0 && dirFilled <= filled, 'the direction has a heatmap of its own',
              `${dirFilled} of the city's ${filled} hours`);
        await page.screenshot({ path: join(opt.out, 'dashboard-direction.png'), fullPage: true });
        await page.locator('svg.heat').screenshot({ path: join(opt.out, 'heatmap-direction.png') });
        await Promise.all([page.waitForNavigation(), page.locator('.crumbs a.drop').click()]);
        check(await page.locator('.crumbs .filter').count() === 0, 'the filter can be dropped');

        // the monthly report of the city, as PDF
        await page.goto(`${base}/dashboard?period=${opt.month}`);
        const href = await page.locator('#downloads a', { hasText: 'PDF' }).getAttribute('href');
        const pdf = await ctx.request.get(`${base}${href}`);
        const bytes = await pdf.body();
        check(pdf.status() === 200 && bytes.subarray(0, 5).toString() === '%PDF-',
              'the monthly report downloads as PDF', `${pdf.status()} ${bytes.length} bytes`);
        check(errors.length === 0, 'no errors in the console', errors.join('; '));
    } finally {
        await ctx.close();
    }
});

await browser.close();
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
