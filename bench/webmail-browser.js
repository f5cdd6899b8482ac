'use strict';
// The browser half of bench/webmail.py: Debian's chromium, headless, kept
// on loopback by t/browser/lib.js's run() (every other host resolves to
// nothing, background networking off, a route and a trap proxy behind).
// For each round and each webmail (the order alternating by round): a new
// context (no cookies, no cache: a first visit), the login page loaded,
// the form filled, then the time from the click on the submit button to
// the first page of the list visible (rows in the DOM and laid out).
// params: sides [{name, url, user, password}], rounds, rows (how many
// rows the first page has).
const { run } = require('../t/browser/lib');

// What each page calls its form and its rows.
const KINDS = {
    maild: { path: '/login', user: '#user', password: '#password',
        submit: 'button[type=submit]', row: 'ul.messages li[data-uid]' },
    // maild's pages again from memory, and a bare form and bare rows
    // (bench/replay.py)
    replay: { path: '/login', user: '#user', password: '#password',
        submit: 'button[type=submit]', row: 'ul.messages li[data-uid]' },
    bare: { path: '/login', user: '#user', password: '#password',
        submit: 'button[type=submit]', row: 'ul.messages li[data-uid]' },
    roundcube: { path: '/', user: '#rcmloginuser', password: '#rcmloginpwd',
        submit: '#rcmloginsubmit', row: '#messagelist tr.message' },
};

run(async (b, t, params) => {
    const ms = {};
    for (const s of params.sides)
        ms[s.name] = [];
    for (let r = 0; r < params.rounds; r++) {
        const order = r % 2 ? [...params.sides].reverse() : params.sides;
        for (const s of order) {
            const k = KINDS[s.name];
            const ctx = await b.newContext();
            const page = await b.page(ctx);
            await page.goto(s.url + k.path);
            await page.fill(k.user, s.user);
            await page.fill(k.password, s.password);
            const t0 = Date.now();
            await page.click(k.submit, { noWaitAfter: true });
            await page.waitForSelector(k.row, { state: 'visible',
                timeout: 30000 });
            ms[s.name].push(Date.now() - t0);
            const n = await page.$$eval(k.row, (els) => els.length);
            t.eq(n, params.rows, s.name + ', round ' + (r + 1) +
                ': the first page of the list has ' + params.rows + ' rows');
            await ctx.close();
        }
    }
    t.data({ login_to_rows_ms: ms });
});
